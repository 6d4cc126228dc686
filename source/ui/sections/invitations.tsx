import {useMemo, useState, type ReactNode} from 'react';
import {Box, useStdout} from 'ink';
import {Text} from '../components/text.js';
import {copyToClipboard, describeCopy} from '../../adapters/clipboard.js';
import {actorFacts} from '../../core/context.js';
import {SET_PUBLIC_URL, unreachableLinksReason} from '../../core/server-settings.js';
import {copyInvitationLink, delivered, invitationFacts, invitationView, listInvitationsIn, mayManage, resendInvitation, revokeInvitation} from '../../core/invitations.js';
import type {Invitation, MailStatus} from '../../core/model.js';
import {decide} from '../../core/policy.js';
import {describeMailStatus} from '../../core/outbox.js';
import useRetryDelivery from '../hooks/use-retry-delivery.js';
import {List} from '../components/list.js';
import {RecordView} from '../components/record-view.js';
import {useConsole, type ConsoleApi} from '../console-context.js';
import type {Column} from '../columns.js';
import {shortTime} from '../format.js';
import {inert} from '../../core/inert.js';
import {orgctlCommand} from '../../core/shell.js';
import type {Command} from '../keymap.js';
import {theme} from '../theme.js';
import {BulkInvite} from './bulk-invite.js';
import {InvitationForm} from './invitation-form.js';
import type {Section, SectionProps} from './section.js';

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

function expiresText(invitation: Invitation, now: Date): string {
	return new Date(invitation.expires) <= now ? 'expired' : shortTime(invitation.expires).slice(5, 10);
}

/**
 * The invitations table: the username keeps its width longest, then the role, the mail status and
 * the expiry; the e-mail takes what they leave (at 80 columns about 21); the method and "invited
 * by" show from about 100 columns, and always in the detail (Enter).
 */
export function invitationColumns(inviter: (invitation: Invitation) => string, now: () => Date): Column<Invitation>[] {
	return [
		{title: 'USERNAME', min: 8, width: 16, priority: 9, cell: i => i.username},
		{title: 'E-MAIL', min: 12, width: 28, priority: 5, grow: 1, cell: i => i.email},
		{title: 'ROLE', min: 6, width: 6, priority: 8, cell: i => i.role},
		{title: 'AUTH', min: 4, width: 4, priority: 4, cell: i => METHOD_SHORT[i.method]},
		{title: 'INVITED BY', min: 10, width: 12, priority: 1, cell: inviter},
		{title: 'EXPIRES', min: 7, width: 7, priority: 6, cell: i => expiresText(i, now())},
		{title: 'MAIL', min: 8, width: 8, priority: 7, cell: i => mailShort(i.mail)},
	];
}

/** Why resend, copy or revoke is refused on this invitation (the policy's row for managing invitations, as the core checks it). */
export function invitationRefusal(api: Pick<ConsoleApi, 'actor' | 'db'>, command: Command, invitation: Invitation | undefined): string | undefined {
	if (!invitation || (command !== 'invitations.resend' && command !== 'invitations.copy' && command !== 'invitations.revoke')) return undefined;
	const decision = decide(actorFacts(api.actor), 'invitations.manage', invitationFacts(api.db, invitation));
	return decision.allowed ? undefined : decision.reason;
}

/** A link (or another value) shown on screen after a copy or a create: no terminal confirms a copy. */
type Shown = {readonly title: string; readonly value: string};

function Invitations({width, height}: SectionProps) {
	const api = useConsole();
	const {ctx, actor, db, run, confirm, refresh} = api;
	const {stdout} = useStdout();
	const all = db.invitations;
	const invitations = useMemo(() => listInvitationsIn({invitations: all}, actor), [all, actor]);
	const [mode, setMode] = useState<'list' | 'new' | 'bulk'>('list');
	const [openId, setOpenId] = useState<string | undefined>(undefined);
	const [shown, setShown] = useState<Shown | undefined>(undefined);
	const open = openId ? invitations.find(i => i.id === openId) : undefined;
	useRetryDelivery(ctx, refresh);

	const users = db.users;
	const names = useMemo(() => new Map(users.map(u => [u.id, u.username])), [users]);
	const columns = useMemo(() => invitationColumns(i => names.get(i.invitedBy) ?? '?', ctx.now), [names, ctx]);
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
					task: async () => delivered(await resendInvitation(ctx, actor, invitation.id)),
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
	// Measured as drawn (inert): a link from a public URL with escapes in it takes more rows.
	const shownLines = shown ? 1 + Math.ceil([...inert(shown.value)].length / Math.max(1, width)) : 0;
	const listHeight = Math.max(3, height - bannerLines - shownLines);
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
					columns={columns}
					filterText={i => `${i.username} ${i.email} ${i.role} ${i.method} ${names.get(i.invitedBy) ?? ''} ${describeMailStatus(i.mail)} ${i.id}`}
					onOpen={i => setOpenId(i.id)}
					onCommand={act}
					refusal={(command, i) => invitationRefusal(api, command, i)}
					targetOf={i => `${i.username} (invitation ${i.id})`}
					contexts={['invitations']}
					active={!open}
					emptyText="No pending invitations. Press n to invite someone."
				/>
			</Box>
			{open ? <InvitationDetail invitation={open} width={width} height={listHeight} onBack={() => setOpenId(undefined)} act={act} /> : null}
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

/** Everything about one invitation, whole, with the full mail status; n, b, r, y and d work here too. */
function InvitationDetail({invitation, width, height, onBack, act}: {readonly invitation: Invitation; readonly width: number; readonly height: number; readonly onBack: () => void; readonly act: (command: Command, invitation: Invitation) => boolean}) {
	const api = useConsole();
	const {ctx, db, actor} = api;
	const view = invitationView(db, invitation, ctx.now());
	const rows: Array<readonly [string, ReactNode]> = [
		['Username', view.username],
		['E-mail', view.email],
		['Role', view.role],
		['Sign-in method', view.method],
		['Invited by', view.invitedBy],
		['Created', shortTime(view.created)],
		['Expires', `${shortTime(view.expires)}${view.expired ? ' (expired: r renews it)' : ''}`],
		...(view.suspended ? [['On hold', <Text {...theme.error}>{`${view.suspended}: the link does not work until they may send it again`}</Text>] as const] : []),
		['Mails sent', String(view.sentCount)],
		['Mail', <Text {...(view.mail.state === 'failed' ? theme.error : view.mail.state === 'sent' ? theme.success : {})}>{describeMailStatus(view.mail)}</Text>],
		['ID', view.id],
	];
	return (
		<RecordView
			title={`Invitation for ${view.username}`}
			rows={rows}
			width={width}
			height={height}
			onBack={onBack}
			contexts={['invitations']}
			onCommand={command => command !== undefined && act(command, invitation)}
			refusal={command => invitationRefusal(api, command, invitation)}
		>
			{!mayManage(db, actor, invitation) ? <Text {...theme.muted} wrap="wrap">You may look at this invitation but not resend, copy or revoke it.</Text> : null}
		</RecordView>
	);
}

export const invitationsSection: Section = {id: 'invitations', title: 'Manage Invitations', short: 'Invitations', order: 20, visibleWith: 'invitations.send', Component: Invitations};
