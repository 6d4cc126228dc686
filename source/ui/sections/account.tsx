import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {changeOwnPassword} from '../../core/accounts.js';
import {revokedNote} from '../../core/credentials.js';
import {Form} from '../components/form.js';
import {useConsole} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {orgctlCommand} from '../../core/shell.js';
import {shortTime} from '../format.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {Section, SectionProps} from './section.js';
import {Fields} from '../components/fields.js';

const PASSWORD_FIELDS = [
	{name: 'current', label: 'Current password', kind: 'password'},
	{name: 'password', label: 'New password', kind: 'password'},
	{name: 'repeat', label: 'Repeat new', kind: 'password'},
] as const;

function Account({width}: SectionProps) {
	const {ctx, actor, run, renewSession} = useConsole();
	const [editing, setEditing] = useState(false);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const user = actor.user;
	const canChange = user.method === 'password';

	useKeys(
		['account'],
		command => {
			if (command !== 'account.password' || editing) return false;
			if (canChange) {
				setError(undefined);
				setEditing(true);
			}
			return true;
		},
		// A PAM or SAML user has no orgctl password: the key is not offered.
		{priority: PRIORITY.section, hidden: canChange ? [] : ['account.password']},
	);

	const submit = async (values: Readonly<Record<string, string>>) => {
		if (values['password'] !== values['repeat']) {
			setError({message: 'The new password and its repetition differ; type them again.', field: 'repeat'});
			return;
		}
		setBusy('Changing the password…');
		const done = await run({
			task: async () => {
				const changed = await changeOwnPassword(ctx, actor, values['current'] ?? '', values['password'] ?? '');
				// The change ends every session of this user, this one too: keep the console signed in with a fresh one.
				await renewSession();
				return changed;
			},
			done: changed => `Password changed; your other sessions were signed out${revokedNote(changed.tokensRevoked, 'your')}.`,
			// Asks for the current and the new password on the terminal (or two lines with --password-stdin).
			command: orgctlCommand('passwd'),
			failed: setError,
		});
		setBusy(undefined);
		if (done) setEditing(false);
	};

	const rows: Array<readonly [string, string]> = [
		['Username', user.username],
		['E-mail', user.email],
		['Role', `${user.role}${user.superuser ? ', superuser ★' : ''}`],
		['Tenant', actor.tenant.name],
		['Sign-in method', user.method],
		['Last login', shortTime(user.lastLogin)],
	];
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading}>My Account</Text>
			<Text> </Text>
			<Fields rows={rows} width={width} />
			<Text> </Text>
			{editing ? (
				<Form
					title="Change your password"
					fields={PASSWORD_FIELDS}
					buttons={[{id: 'save', label: 'Change password'}]}
					onPress={(_button, values) => void submit(values)}
					onCancel={() => setEditing(false)}
					busy={busy}
					error={error}
					width={width}
				/>
			) : canChange ? (
				<Text>
					Press <Text {...theme.key}>p</Text> to change your password, <Text {...theme.key}>L</Text> to sign out.
				</Text>
			) : (
				<Text {...theme.muted} wrap="wrap">
					You sign in with {user.method.toUpperCase()}; your password is managed there, not by orgctl. L signs out.
				</Text>
			)}
		</Box>
	);
}

export const accountSection: Section = {id: 'account', title: 'My Account', order: 90, visibleWith: 'profile.own', Component: Account};
