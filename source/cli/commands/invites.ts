import {readFileSync} from 'node:fs';
import {Option, type Command} from 'commander';
import type {Context} from '../../core/context.js';
import {invalid} from '../../core/errors.js';
import {
	acceptInvitation,
	copyInvitationLink,
	inspectInvitationAudited,
	invitationView,
	listInvitations,
	readInvitationList,
	resendInvitation,
	revokeInvitation,
	sendInvitation,
	sendInvitations,
} from '../../core/invitations.js';
import {AUTH_METHODS, ROLES, type AuthMethod, type Invitation, type MailStatus, type Role} from '../../core/model.js';
import {deliverQueuedMail, describeMailStatus} from '../../core/outbox.js';
import {welcomeMessage} from '../../core/accounts.js';
import {unreachableLinks} from '../../core/server-settings.js';
import {userView} from '../../core/users.js';
import {plural} from '../../core/words.js';
import {obtainPassword, readStdinSecret, table, UsageError, type CliContext} from '../context.js';

const SHORT_ID = 8;

/** What a script gets for one invitation: DESIGN §6 names id, link, expires and the mail status. */
function issuedJson(invitation: Invitation, link: string, mail: MailStatus) {
	return {id: invitation.id, username: invitation.username, email: invitation.email, role: invitation.role, method: invitation.method, link, expires: invitation.expires, mail};
}

/** Warns, on stderr, when the links we mail point where their readers cannot go (the public URL is unset). */
function warnUnreachable(cli: CliContext, ctx: Context): void {
	const warning = unreachableLinks(ctx.store.read().settings.publicUrl);
	if (warning) cli.say(`Warning: ${warning}`);
}

/** Tells people, on stderr, what happened to the mail; a failure is a warning, the invitation stands. */
function reportMail(cli: CliContext, invitation: Invitation, mail: MailStatus): void {
	const id = invitation.id.slice(0, SHORT_ID);
	switch (mail.state) {
		case 'sent':
			cli.say(`Mail sent to ${invitation.email}.`);
			return;
		case 'queued':
			cli.say(`Mail to ${invitation.email} is queued.`);
			return;
		case 'retrying':
			cli.say(`Mail to ${invitation.email} not sent yet, will retry: ${mail.reason}. The invitation is kept; share the link above, or: orgctl invites resend ${id}`);
			return;
		case 'failed':
			cli.say(`Mail to ${invitation.email} failed: ${mail.reason}. The invitation is kept; share the link above, or fix the cause and: orgctl invites resend ${id}`);
			return;
		case 'not-sent':
			cli.say(`Mail to ${invitation.email} not sent: ${mail.reason}. The invitation is kept; share the link above.`);
			return;
	}
}

function progressPrinter(label: string): (done: number, total: number) => void {
	const tty = process.stderr.isTTY;
	let lastTenth = 0;
	return (done, total) => {
		const tenth = Math.floor((done / total) * 10);
		if (tty) {
			const width = 30;
			const filled = Math.round((done / total) * width);
			process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
		} else if (tenth > lastTenth || done === total) {
			lastTenth = tenth;
			process.stderr.write(`${label} ${done}/${total}\n`);
		}
	};
}

type CreateOptions = {role?: Role; method?: AuthMethod; email: boolean; file?: string};

async function createFromFile(cli: CliContext, file: string, options: CreateOptions): Promise<void> {
	const text = file === '-' ? await readStdinSecret() : readText(file);
	const list = await readInvitationList(text, {...(options.role ? {role: options.role} : {}), ...(options.method ? {method: options.method} : {})});
	const ctx = await cli.ctx();
	const actor = await cli.actor();
	cli.say(`Inviting ${plural(list.rows.length, 'person', 'people')}${list.unreadable.length ? ` (${plural(list.unreadable.length, 'line')} could not be read)` : ''}...`);
	const sent = await sendInvitations(ctx, actor, list, {sendEmail: options.email, onProgress: progressPrinter('Mailing')});
	const rowsOut = sent.rows.map(r =>
		r.ok ? {line: r.line, ok: true, ...issuedJson(r.invitation, r.link, r.mail ?? r.invitation.mail)} : {line: r.line, ok: false, username: r.username, email: r.email, reason: r.reason},
	);
	cli.print(rowsOut, () =>
		table(
			rowsOut.map(r => ({line: r.line, username: r.username, email: r.email, result: r.ok && 'mail' in r ? describeMailStatus(r.mail) : `refused: ${'reason' in r ? r.reason : ''}`, link: 'link' in r ? r.link : null})),
			[
				['line', 'line'],
				['username', 'username'],
				['email', 'e-mail'],
				// Why a row was refused is the point of the table: room for the sentence.
				['result', 'result', {max: 120}],
				['link', 'link', {whole: true}],
			],
			// Not cut to the terminal: the links are whole anyway, and each refused row's reason is the point.
			{width: undefined},
		),
	);
	cli.say(`${sent.summary}${sent.refused ? ' The result column says why each refused row was.' : ''}`);
	// Only when links were made: a list that was all refused has no link to warn about.
	if (sent.rows.some(r => r.ok)) warnUnreachable(cli, ctx);
	if (sent.refused > 0) cli.exitCode = 1;
	if (sent.deliveryError !== undefined) throw sent.deliveryError;
}

function readText(path: string): string {
	try {
		return readFileSync(path, 'utf8');
	} catch (error) {
		throw invalid(`Cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
	}
}

/** `orgctl invites create|list|resend|link|delete|deliver` and `orgctl accept`. */
export function registerInviteCommands(program: Command, cli: CliContext): void {
	const invites = program.command('invites').alias('invite').description('invitations of the tenant: create, list, resend, copy the link, revoke');

	invites
		.command('create')
		.description('invite someone (prints the link), or many with --file')
		.argument('[username]', 'the username the invitee will have')
		.argument('[email]', 'where the invitation is mailed')
		.addOption(new Option('--role <role>', 'role of the new user (default member)').choices(ROLES))
		.addOption(new Option('--method <method>', 'how the new user signs in (default password)').choices(AUTH_METHODS))
		.option('--no-email', 'do not send mail; share the printed link yourself')
		.option('--file <path>', 'invite everyone in a CSV file (username,email[,role[,method]] a line; - reads stdin)')
		.action(async (username: string | undefined, email: string | undefined, options: CreateOptions) => {
			if (options.file) {
				if (username || email) throw new UsageError('give either USERNAME EMAIL or --file, not both.');
				return createFromFile(cli, options.file, options);
			}
			if (!username || !email) throw new UsageError('invites create needs USERNAME and EMAIL (or --file invites.csv).');
			const ctx = await cli.ctx();
			const actor = await cli.actor();
			const input = {username, email, ...(options.role ? {role: options.role} : {}), ...(options.method ? {method: options.method} : {})};
			const sent = await sendInvitation(ctx, actor, input, {
				sendEmail: options.email,
				// The link and id come out before mailing, so that no mail failure can lose them.
				onCreated: ({invitation, link}) => {
					if (cli.json) return;
					cli.out(link);
					cli.say(`Invited ${invitation.username} <${invitation.email}> as ${invitation.role} (${invitation.method}), id ${invitation.id.slice(0, SHORT_ID)}, expires ${invitation.expires}.`);
				},
			});
			if (cli.json) cli.print(issuedJson(sent.invitation, sent.link, sent.mail), () => '');
			reportMail(cli, sent.invitation, sent.mail);
			warnUnreachable(cli, ctx);
			if (sent.deliveryError !== undefined) throw sent.deliveryError;
		});

	invites
		.command('list')
		.description('pending invitations (all for admins, your own for members)')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const actor = await cli.actor();
			const db = ctx.store.read();
			const now = ctx.now();
			const views = (await listInvitations(ctx, actor)).map(i => invitationView(db, i, now));
			cli.print(views, () =>
				table(
					views.map(v => ({...v, id: v.id.slice(0, SHORT_ID), expires: v.expired ? `expired ${v.expires.slice(0, 10)}` : v.expires.slice(0, 16).replace('T', ' '), mail: v.suspended ? `on hold: ${v.suspended}` : describeMailStatus(v.mail)})),
					[
						['id', 'id', {priority: 9}],
						['username', 'username', {priority: 8}],
						['email', 'e-mail', {priority: 3}],
						['role', 'role', {priority: 7}],
						['method', 'method', {priority: 4}],
						['invitedBy', 'invited by', {priority: 2}],
						['expires', 'expires', {priority: 5}],
						['mail', 'mail', {max: 80, priority: 6}],
					],
				),
			);
			warnUnreachable(cli, ctx);
		});

	invites
		.command('resend')
		.description('mail the invitation again (an expired one gets a fresh link)')
		.argument('<id>', 'invitation id or a unique prefix of it')
		.action(async (id: string) => {
			const ctx = await cli.ctx();
			const resent = await resendInvitation(ctx, await cli.actor(), id);
			cli.print({...issuedJson(resent.invitation, resent.link, resent.mail), renewed: resent.renewed}, () => `${resent.link}\n`);
			if (resent.renewed) cli.say(`The invitation had expired: it has a new link, valid until ${resent.invitation.expires}; the old link stays dead.`);
			reportMail(cli, resent.invitation, resent.mail);
			if (resent.deliveryError !== undefined) throw resent.deliveryError;
		});

	invites
		.command('link')
		.description('print the link of an invitation, to share it yourself')
		.argument('<id>', 'invitation id or a unique prefix of it')
		.action(async (id: string) => {
			const ctx = await cli.ctx();
			const {invitation, link} = await copyInvitationLink(ctx, await cli.actor(), id);
			cli.print({id: invitation.id, username: invitation.username, email: invitation.email, link, expires: invitation.expires}, () => `${link}\n`);
		});

	invites
		.command('delete')
		.alias('revoke')
		.description('revoke an invitation: its link stops working at once')
		.argument('<id>', 'invitation id or a unique prefix of it')
		.action(async (id: string) => {
			const ctx = await cli.ctx();
			const invitation = await revokeInvitation(ctx, await cli.actor(), id);
			if (cli.json) cli.print({id: invitation.id, username: invitation.username, email: invitation.email, revoked: true}, () => '');
			cli.say(`Revoked the invitation for ${invitation.username} <${invitation.email}>; its link no longer works.`);
		});

	invites
		.command('deliver')
		.description('send queued mail now and retry what is due (admins; for cron)')
		.action(async () => {
			const ctx = await cli.ctx();
			const report = await deliverQueuedMail(ctx, await cli.actor(), {onProgress: progressPrinter('Mailing')});
			const summary = {sent: report.sent, retrying: report.retrying, failed: report.failed, notSent: report.notSent};
			cli.print(summary, () => `${report.results.length} due: ${report.sent} sent, ${report.retrying} retrying, ${report.failed} failed, ${report.notSent} not sent.\n`);
		});

	program
		.command('accept')
		.description('accept an invitation: become a user (password users choose a password)')
		.argument('<link>', 'the invitation link from the e-mail, or its token')
		.option('--password-stdin', 'read the password from stdin (the new one; for PAM, the system account\'s)')
		.action(async (link: string, options: {passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const invitation = await inspectInvitationAudited(ctx, link);
			let password: string | undefined;
			if (invitation.method === 'password') {
				cli.say(`Invitation for ${invitation.username} <${invitation.email}> to ${invitation.tenant} as ${invitation.role}. Choose a password of at least ${invitation.minPasswordLength} characters.`);
				password = await obtainPassword(options, 'New password: ');
				if (!options.passwordStdin && (await obtainPassword(options, 'Repeat password: ')) !== password) throw invalid('The two passwords differ; nothing was changed, run orgctl accept again.');
			} else if (invitation.method === 'pam') {
				cli.say(`Invitation for ${invitation.username} <${invitation.email}> to ${invitation.tenant} as ${invitation.role}. Confirm the system account ${invitation.username} with its password (checked through PAM).`);
				password = await obtainPassword(options, `Password of the system account ${invitation.username}: `);
			}
			const {user, tenant} = await acceptInvitation(ctx, {link, ...(password !== undefined ? {password} : {})});
			cli.print(userView(ctx.store.read(), user), () => '');
			cli.say(welcomeMessage(user, tenant));
		});
}
