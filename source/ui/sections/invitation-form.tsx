import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {actorFacts} from '../../core/context.js';
import {delivered, sendInvitation} from '../../core/invitations.js';
import {AUTH_METHODS, type AuthMethod, type Role} from '../../core/model.js';
import {describeMailStatus} from '../../core/outbox.js';
import {grantableRoles} from '../../core/policy.js';
import {Form} from '../components/form.js';
import {useConsole} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {orgctlCommand} from '../../core/shell.js';
import {theme} from '../theme.js';

type Props = {
	readonly width: number;
	/** Closes the form; with the new invitation's username and link when one was created. */
	readonly onDone: (created?: {username: string; link: string}) => void;
};

/** The command line that does what the form did, for the status line. */
export function inviteCommand(values: {username: string; email: string; role: string; method: string}, sendEmail: boolean): string {
	return orgctlCommand(
		'invites',
		'create',
		values.username,
		values.email,
		...(values.role !== 'member' ? ['--role', values.role] : []),
		...(values.method !== 'password' ? ['--method', values.method] : []),
		...(sendEmail ? [] : ['--no-email']),
	);
}

/** `n` in Manage Invitations: username, e-mail, role (up to the actor's own), method; send or create without mail. */
export function InvitationForm({width, onDone}: Props) {
	const {ctx, actor, db, run, confirm} = useConsole();
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const roles = grantableRoles(actorFacts(actor));
	const smtpMissing = db.settings.smtp === null;

	const submit = async (button: string, values: Readonly<Record<string, string>>) => {
		const input = {
			username: (values['username'] ?? '').trim(),
			email: (values['email'] ?? '').trim(),
			role: (values['role'] ?? 'member') as Role,
			method: (values['method'] ?? 'password') as AuthMethod,
		};
		const sendEmail = button === 'send';
		if (input.role === 'admin' && !(await confirm(`Invite ${input.username || 'this person'} as an admin? Admins change roles, disable and delete users, and configure self sign-up.`))) return;
		setError(undefined);
		setBusy(sendEmail ? `Inviting ${input.username} and sending the e-mail…` : `Inviting ${input.username}…`);
		const result = await run({
			task: async () => delivered(await sendInvitation(ctx, actor, input, {sendEmail})),
			// Shown in the form too, where the user corrects it; run() puts it on the status line.
			failed: setError,
			done: r => `Invited ${r.invitation.username}: mail ${describeMailStatus(r.mail)}.`,
			command: inviteCommand(input, sendEmail),
		});
		setBusy(undefined);
		if (result) onDone({username: result.invitation.username, link: result.link});
	};

	return (
		<Box flexDirection="column" width={width}>
			<Form
				title="Invite someone"
				fields={[
					{name: 'username', label: 'Username'},
					{name: 'email', label: 'E-mail'},
					{name: 'role', label: 'Role', kind: 'choice', options: roles, initial: roles.includes('member') ? 'member' : roles.at(-1), hint: '←/→'},
					{name: 'method', label: 'Sign-in', kind: 'choice', options: [...AUTH_METHODS], hint: '←/→'},
				]}
				buttons={[
					{id: 'send', label: 'Send invitation'},
					{id: 'nomail', label: 'Create without e-mail'},
				]}
				onPress={(button, values) => void submit(button, values)}
				onCancel={() => onDone()}
				busy={busy}
				error={error}
				width={width}
			/>
			{smtpMissing ? (
				<Box marginTop={1}>
					<Text {...theme.muted} wrap="wrap">
						SMTP is not configured: the invitation is kept as "not sent" and its link is shown to share yourself.
					</Text>
				</Box>
			) : null}
		</Box>
	);
}
