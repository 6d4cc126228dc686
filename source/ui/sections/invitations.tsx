import {useEffect, useMemo, useRef, useState} from 'react';
import {Box, Text, useStdout} from 'ink';
import {copyToClipboard, describeCopy} from '../../adapters/clipboard.js';
import {SET_PUBLIC_URL, unreachableLinksReason} from '../../core/server-settings.js';
import {copyInvitationLink, invitationView, listInvitations, mayManage, resendInvitation, revokeInvitation} from '../../core/invitations.js';
import type {Invitation, MailStatus} from '../../core/model.js';
import {deliverOutbox, describeMailStatus} from '../../core/outbox.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import {columns, orgctlCommand, shortTime} from '../format.js';
import {PRIORITY, useKeys} from '../input-router.js';
import type {Command} from '../keymap.js';
import {theme} from '../theme.js';
import {BulkInvite} from './bulk-invite.js';
import {InvitationForm} from './invitation-form.js';
import type {Section, SectionProps} from './section.js';
import {Fields} from '../components/fields.js';

/** How long the console waits between looks for mail that is due again (retries after a temporary failure). */
const RETRY_POLL_MS = 30_000;

/** An id as people type it: the first 8 hex digits are unique in practice (any unique prefix works). */
export const shortId = (invitation: Pick<Invitation, 'id'>) => invitation.id.slice(0, 8);

/** The mail status in a narrow column. */
function mailShort(mail: MailStatus): string {
	switch (mail.state) {
		case 'queued':
			return 'queued';
		case 'sent':
			return 'sent';
		case 'retrying':
			return 'retrying';
		case 'failed':
			return 'FAILED';
		case 'not-sent':
			return 'not sent';
	}
}

/** The sign-in method in a narrow column. */
const METHOD_SHORT = {password: 'pwd', pam: 'pam', saml: 'saml'} as const;

/** Columns at this width: everything from 70 columns; narrower, "invited by" is in the detail view (Enter). */
function layout(width: number) {
	const fixed = {role: 6, method: 4, expires: 7, mail: 8};
	const invitedBy = width >= 70 ? 10 : 0;
	const gaps = invitedBy ? 6 : 5;
	const rest = Math.max(16, width - 1 - gaps - fixed.role - fixed.method - fixed.expires - fixed.mail - invitedBy);
	const username = Math.max(8, Math.floor(rest * 0.4));
	return {...fixed, invitedBy, username, email: rest - username};
}

function expiresText(invitation: Invitation, now: Date): string {
	return new Date(invitation.expires) <= now ? 'expired' : shortTime(invitation.expires).slice(5, 10);
}

/** A link (or another value) shown on screen after a copy or a create: no terminal confirms a copy. */
type Shown = {readonly title: string; readonly value: string};

function Invitations({width, height}: SectionProps) {
	const api = useConsole();
	const {ctx, actor, db, run, confirm, refresh} = api;
	const {stdout} = useStdout();
	const invitations = useMemo(() => listInvitations(ctx, actor), [ctx, actor, db]);
	const now = ctx.now();
	const [mode, setMode] = useState<'list' | 'new' | 'bulk'>('list');
	const [openId, setOpenId] = useState<string | undefined>(undefined);
	const [shown, setShown] = useState<Shown | undefined>(undefined);
	const open = openId ? invitations.find(i => i.id === openId) : undefined;
	useRetryDelivery(refresh);

	const names = useMemo(() => new Map(db.users.map(u => [u.id, u.username])), [db]);
	const smtpMissing = db.settings.smtp === null;

	const act = (command: Command, invitation: Invitation | undefined): boolean => {
		if (command === 'invitations.new') {
			setShown(undefined);
			setMode('new');
			return true;
		}
		if (command === 'invitations.bulk') {
			setShown(undefined);
			setMode('bulk');
			return true;
		}
		if (!invitation) return false;
		const id = shortId(invitation);
		switch (command) {
			case 'invitations.resend':
				void run({
					task: async () => {
						const resent = await resendInvitation(ctx, actor, invitation.id);
						await deliverOutbox(ctx, undefined, {ids: resent.outboxId ? [resent.outboxId] : []});
						const mail = ctx.store.read().invitations.find(i => i.id === invitation.id)?.mail ?? resent.invitation.mail;
						return {...resent, mail};
					},
					busy: `Sending the invitation to ${invitation.email} again…`,
					done: r => `${r.renewed ? 'Renewed with a fresh link and resent' : 'Resent'} to ${invitation.email}: ${describeMailStatus(r.mail)}.`,
					command: orgctlCommand('invites', 'resend', id),
				}).then(r => {
					if (r && (r.renewed || r.mail.state !== 'sent')) setShown({title: `Link for ${invitation.username}${r.renewed ? ' (renewed)' : ''}`, value: r.link});
				});
				return true;
			case 'invitations.copy':
				void run({
					task: async () => {
						const {link} = await copyInvitationLink(ctx, actor, invitation.id);
						setShown({title: `Link for ${invitation.username}`, value: link});
						return copyToClipboard(link, {output: stdout});
					},
					done: result => `Link for ${invitation.username} ${describeCopy(result)}; it is also shown above.`,
					command: orgctlCommand('invites', 'link', id),
				});
				return true;
			case 'invitations.revoke':
				void (async () => {
					if (!(await confirm(`Revoke the invitation for ${invitation.username} <${invitation.email}>? Its link stops working at once.`))) return;
					const done = await run({
						task: () => revokeInvitation(ctx, actor, invitation.id),
						done: `Revoked the invitation for ${invitation.username}; its link no longer works.`,
						command: orgctlCommand('invites', 'delete', id),
					});
					if (done) {
						setOpenId(undefined);
						setShown(current => (current?.title.endsWith(` ${invitation.username}`) ? undefined : current));
					}
				})();
				return true;
			default:
				return false;
		}
	};

	if (mode === 'new') {
		return (
			<InvitationForm
				width={width}
				onDone={created => {
					setMode('list');
					if (created) setShown({title: `Link for ${created.username}`, value: created.link});
				}}
			/>
		);
	}
	if (mode === 'bulk') return <BulkInvite width={width} height={height} onDone={() => setMode('list')} />;

	const unreachable = unreachableLinksReason(db.settings.publicUrl);
	const bannerLines = (smtpMissing ? 2 : 0) + (unreachable ? 2 : 0);
	const shownLines = shown ? 1 + Math.ceil(shown.value.length / Math.max(1, width)) : 0;
	const listHeight = Math.max(3, height - bannerLines - shownLines);
	const w = layout(width);
	const header = columns([
		['USERNAME', w.username],
		['E-MAIL', w.email],
		['ROLE', w.role],
		['AUTH', w.method],
		...(w.invitedBy ? ([['INVITED BY', w.invitedBy]] as const) : []),
		['EXPIRES', w.expires],
		['MAIL', w.mail],
	]);
	return (
		<Box flexDirection="column" width={width} height={height}>
			{smtpMissing ? (
				<Box flexDirection="column" height={2}>
					<Text {...theme.warning} wrap="truncate-end">
						⚠ SMTP is not configured: no mail is sent.
					</Text>
					<Text {...theme.muted} wrap="truncate-end">
						Share links with y (SMTP: orgctl settings smtp set)
					</Text>
				</Box>
			) : null}
			{unreachable ? (
				<Box flexDirection="column" height={2}>
					<Text {...theme.warning} wrap="truncate-end">
						⚠ Links will not be reachable: {unreachable === 'unset' ? 'public URL not set.' : `${db.settings.publicUrl} ${unreachable === 'this-machine' ? 'is this machine only' : 'is not a URL'}.`}
					</Text>
					<Text {...theme.muted} wrap="truncate-end">
						Set it: {SET_PUBLIC_URL}
					</Text>
				</Box>
			) : null}
			<Box display={open ? 'none' : 'flex'} flexDirection="column">
				<List
					title="Manage Invitations"
					items={invitations}
					keyOf={i => i.id}
					width={width}
					height={listHeight}
					header={header}
					filterText={i => `${i.username} ${i.email} ${i.role} ${i.method} ${names.get(i.invitedBy) ?? ''} ${describeMailStatus(i.mail)} ${i.id}`}
					renderRow={i =>
						columns([
							[i.username, w.username],
							[i.email, w.email],
							[i.role, w.role],
							[METHOD_SHORT[i.method], w.method],
							...(w.invitedBy ? ([[names.get(i.invitedBy) ?? '?', w.invitedBy]] as const) : []),
							[expiresText(i, now), w.expires],
							[mailShort(i.mail), w.mail],
						])
					}
					onOpen={i => setOpenId(i.id)}
					onCommand={act}
					contexts={['invitations']}
					active={!open}
					emptyText="No pending invitations. Press n to invite someone."
				/>
			</Box>
			{open ? <InvitationDetail invitation={open} width={width} onBack={() => setOpenId(undefined)} act={act} /> : null}
			{shown ? (
				<Box flexDirection="column" width={width}>
					<Text {...theme.heading} wrap="truncate-end">
						{shown.title}:
					</Text>
					<Text wrap="wrap">{shown.value}</Text>
				</Box>
			) : null}
		</Box>
	);
}

/** Everything about one invitation, with the full mail status; r, y and d work here too. */
function InvitationDetail({invitation, width, onBack, act}: {readonly invitation: Invitation; readonly width: number; readonly onBack: () => void; readonly act: (command: Command, invitation: Invitation) => boolean}) {
	const {ctx, db, actor} = useConsole();
	useKeys(
		['detail', 'invitations'],
		command => {
			if (command === 'view.back') {
				onBack();
				return true;
			}
			if (command === 'invitations.new' || command === 'invitations.bulk' || command === undefined) return false;
			return act(command, invitation);
		},
		{priority: PRIORITY.detail},
	);
	const view = invitationView(db, invitation, ctx.now());
	const rows: Array<readonly [string, string]> = [
		['Username', view.username],
		['E-mail', view.email],
		['Role', view.role],
		['Sign-in method', view.method],
		['Invited by', view.invitedBy],
		['Created', shortTime(view.created)],
		['Expires', `${shortTime(view.expires)}${view.expired ? '  (expired: r renews it)' : ''}`],
		['Mails sent', String(view.sentCount)],
		['ID', view.id],
	];
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading} wrap="truncate-end">
				Invitation for {view.username} <Text {...theme.muted}>(Esc: back to the list)</Text>
			</Text>
			<Text> </Text>
			<Fields rows={rows} />
			<Text wrap="wrap">
				<Text {...theme.muted}>{'Mail'.padEnd(16)}</Text>
				<Text {...(view.mail.state === 'failed' ? theme.error : view.mail.state === 'sent' ? theme.success : {})}>{describeMailStatus(view.mail)}</Text>
			</Text>
			{!mayManage(actor, invitation) ? <Text {...theme.muted}>You may look at this invitation but not resend, copy or revoke it.</Text> : null}
		</Box>
	);
}

/**
 * While the section is open, mail that failed temporarily is retried when due (the back-off is in
 * the outbox), outside the store lock, and the list shows the new status.
 */
function useRetryDelivery(refresh: () => void): void {
	const {ctx} = useConsole();
	const busy = useRef(false);
	useEffect(() => {
		const tick = () => {
			if (busy.current) return;
			const now = ctx.now();
			let due: boolean;
			try {
				due = ctx.store.read().outbox.some(item => new Date(item.nextAttempt) <= now && (!item.claimedUntil || new Date(item.claimedUntil) <= now));
			} catch {
				// The store became unusable: the console's refresh ends it with the reason.
				refresh();
				return;
			}
			if (!due) return;
			busy.current = true;
			deliverOutbox(ctx)
				.catch(() => undefined)
				.finally(() => {
					busy.current = false;
					refresh();
				});
		};
		const timer = setInterval(tick, RETRY_POLL_MS);
		timer.unref();
		return () => clearInterval(timer);
	}, [ctx, refresh]);
}

export const invitationsSection: Section = {id: 'invitations', title: 'Manage Invitations', order: 20, visibleWith: 'invitations.send', Component: Invitations};
