import {useState} from 'react';
import {Box, Text} from 'ink';
import {ROLES, type User} from '../../core/model.js';
import {revokedNote} from '../../core/credentials.js';
import {owned, type OwnedItem} from '../../core/ownership.js';
import {deleteUser, disableUser, enableUser, parseRole, resetUserPassword, setRole, setSuperuser} from '../../core/user-admin.js';
import {Form} from '../components/form.js';
import {useConsole, type ConsoleApi} from '../console-context.js';
import {orgctlCommand} from '../../core/shell.js';
import type {Command} from '../keymap.js';
import {MigrationView} from './migration-view.js';

/** What covers the users list while an action needs more than a yes or no. */
export type UserOverlay =
	| {readonly kind: 'role'; readonly user: User}
	| {readonly kind: 'password'; readonly user: User}
	| {readonly kind: 'migrate'; readonly user: User; readonly items: readonly OwnedItem[]};

/**
 * The Users section's actions on the selected user: `e` role, `s` superuser (Access Control),
 * `x` disable/enable, `p` reset password, `d` delete. Every change goes through the core, which
 * checks the guards and audits; the console only asks and shows.
 */
export function userCommand(api: ConsoleApi, command: Command, user: User | undefined, open: (overlay: UserOverlay) => void): boolean {
	if (!user) return false;
	const {ctx, actor, run, confirm} = api;
	const seen = {expectedRevision: user.revision};
	switch (command) {
		case 'users.role':
			open({kind: 'role', user});
			return true;
		case 'users.password':
			open({kind: 'password', user});
			return true;
		case 'users.superuser': {
			const on = !user.superuser;
			void (async () => {
				if (!(await confirm(on ? `Make ${user.username} a superuser of the whole instance?` : `Revoke the superuser bit from ${user.username}?`))) return;
				await run({
					task: () => setSuperuser(ctx, actor, user.username, on, seen),
					done: `${user.username} ${on ? 'is now a superuser' : 'is no longer a superuser'}.`,
					command: orgctlCommand('users', 'set-superuser', user.username, on ? 'on' : 'off'),
				});
			})();
			return true;
		}
		case 'users.disable':
			void (async () => {
				if (user.disabled) {
					await run({task: () => enableUser(ctx, actor, user.username, seen), done: `${user.username} is enabled.`, command: orgctlCommand('users', 'enable', user.username)});
					return;
				}
				if (!(await confirm(`Disable ${user.username}? They cannot sign in, their sessions end and their cli API tokens are revoked for good.`))) return;
				await run({task: () => disableUser(ctx, actor, user.username, seen), done: r => `${user.username} is disabled${revokedNote(r.tokensRevoked, 'their')}.`, command: orgctlCommand('users', 'disable', user.username)});
			})();
			return true;
		case 'users.delete':
			void (async () => {
				const {items} = await owned(ctx, actor, user.username);
				if (items.length > 0) {
					open({kind: 'migrate', user, items});
					return;
				}
				if (!(await confirm(`Delete ${user.username}? This cannot be undone.`))) return;
				await run({task: () => deleteUser(ctx, actor, user.username, seen), done: `${user.username} deleted.`, command: orgctlCommand('users', 'delete', user.username, '--yes')});
			})();
			return true;
		default:
			return false;
	}
}

type OverlayProps = {readonly overlay: UserOverlay; readonly width: number; readonly height: number; readonly onClose: () => void};

/** The form or view an action opened. */
export function UserOverlayView({overlay, width, height, onClose}: OverlayProps) {
	switch (overlay.kind) {
		case 'role':
			return <RoleForm user={overlay.user} width={width} onClose={onClose} />;
		case 'password':
			return <PasswordForm user={overlay.user} width={width} onClose={onClose} />;
		case 'migrate':
			return <MigrationView user={overlay.user} items={overlay.items} width={width} height={height} onClose={onClose} />;
	}
}

function RoleForm({user, width, onClose}: {readonly user: User; readonly width: number; readonly onClose: () => void}) {
	const {ctx, actor, run} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	return (
		<Form
			title={`Change the role of ${user.username}`}
			fields={[{name: 'role', label: 'Role', kind: 'choice', options: ROLES, initial: user.role, hint: '←/→'}]}
			buttons={[{id: 'save', label: 'Change role'}]}
			width={width}
			busy={busy}
			onCancel={onClose}
			onPress={(_button, values) =>
				void (async () => {
					const role = parseRole(values['role'] ?? user.role);
					setBusy('Saving…');
					await run({task: () => setRole(ctx, actor, user.username, role, {expectedRevision: user.revision}), done: `${user.username} is now ${role}.`, command: orgctlCommand('users', 'set-role', user.username, role)});
					onClose();
				})()
			}
		/>
	);
}

function PasswordForm({user, width, onClose}: {readonly user: User; readonly width: number; readonly onClose: () => void}) {
	const {ctx, actor, run} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	const [error, setError] = useState<string | undefined>();
	return (
		<Box flexDirection="column" width={width}>
			<Form
				title={`Set a new password for ${user.username}`}
				fields={[
					{name: 'password', label: 'New password', kind: 'password'},
					{name: 'again', label: 'Again', kind: 'password'},
				]}
				buttons={[{id: 'save', label: 'Set password'}]}
				width={width}
				busy={busy}
				error={error}
				onCancel={onClose}
				onPress={(_button, values) =>
					void (async () => {
						if (values['password'] !== values['again']) {
							setError('The two passwords differ; type the same one twice.');
							return;
						}
						setBusy('Setting the password…');
						const result = await run({
							task: () => resetUserPassword(ctx, actor, user.username, values['password'] ?? '', {expectedRevision: user.revision}),
							done: r => `Password of ${user.username} set; their sessions ended${revokedNote(r.tokensRevoked, 'their')}.`,
							command: `printf %s "$PW" | ${orgctlCommand('users', 'reset-password', user.username, '--password-stdin')}`,
						});
						setBusy(undefined);
						if (result) onClose();
					})()
				}
			/>
			<Text wrap="truncate-end"> </Text>
		</Box>
	);
}
