import {useState} from 'react';
import {Box} from 'ink';
import {actorFacts} from '../../core/context.js';
import {revokedNote} from '../../core/credentials.js';
import type {Database, User} from '../../core/model.js';
import {owned, type OwnedItem} from '../../core/ownership.js';
import {grantableRoles, ROLE_RANK} from '../../core/policy.js';
import {deleteUser, disableUser, enableUser, parseRole, resetUserPassword, setRole, setSuperuser, suspensionWarning, userChangeRefusal, type UserChange} from '../../core/user-admin.js';
import {Form} from '../components/form.js';
import {useConsole, type ConsoleApi} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {orgctlCommand} from '../../core/shell.js';
import type {Command} from '../keymap.js';
import {MigrationView} from './migration-view.js';

/** What covers the users list while an action needs more than a yes or no. */
export type UserOverlay =
	| {readonly kind: 'role'; readonly user: User}
	| {readonly kind: 'password'; readonly user: User}
	| {readonly kind: 'migrate'; readonly user: User; readonly items: readonly OwnedItem[]};

/** The change a Users key asks for on this user. */
function changeOf(command: Command, user: User): UserChange | undefined {
	switch (command) {
		case 'users.role':
			return 'role';
		case 'users.superuser':
			return 'superuser';
		case 'users.disable':
			return user.disabled ? 'enable' : 'disable';
		case 'users.password':
			return 'password';
		case 'users.delete':
			return 'delete';
		default:
			return undefined;
	}
}

/**
 * Why a Users key is refused on this user, before any form or question: the core's own check
 * (`checkUserChange`: the policy, one's own account, the last admin and the last superuser).
 */
export function userRefusal(api: ConsoleApi, command: Command, user: User | undefined): string | undefined {
	const change = user ? changeOf(command, user) : undefined;
	return user && change ? userChangeRefusal(api.db, api.actor, user, change) : undefined;
}

/**
 * The Users section's actions on the selected user: `e` role, `s` superuser (Access Control),
 * `x` disable/enable, `p` reset password, `d` delete. Every change goes through the core, which
 * checks the guards and audits; the console only asks and shows.
 */
export function userCommand(api: ConsoleApi, command: Command, user: User | undefined, open: (overlay: UserOverlay) => void): boolean {
	if (!user) return false;
	const {ctx, actor, run, confirm, confirmTyped} = api;
	const seen = {expectedRevision: user.revision};
	const self = user.id === actor.user.id;
	switch (command) {
		case 'users.role':
			open({kind: 'role', user});
			return true;
		case 'users.password':
			open({kind: 'password', user});
			return true;
		case 'users.superuser': {
			const on = !user.superuser;
			const question = on
				? `Make ${user.username} a superuser of the whole instance? They get server settings, tenants and single sign-on, in every tenant.`
				: self
					? 'Revoke your own superuser bit? You lose server settings, tenants and single sign-on at once; only another superuser can give it back.'
					: `Revoke the superuser bit from ${user.username}?`;
			const hold = on ? '' : suspensionWarning(api.db, user, {superuser: false});
			void (async () => {
				if (!(await confirm(question + hold))) return;
				await run({
					task: () => setSuperuser(ctx, actor, user.username, on, seen),
					done: self && !on ? 'You are no longer a superuser.' : `${user.username} ${on ? 'is now a superuser' : 'is no longer a superuser'}.`,
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
				if (!(await confirm(`Disable ${user.username}? They cannot sign in, their sessions end and their cli API tokens are revoked for good.${suspensionWarning(api.db, user, {disabled: true})}`))) return;
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
				// Every deletion is severe: the name is typed, whether or not they own anything.
				if (!(await confirmTyped(`Delete ${user.username}? This cannot be undone.`, user.username))) return;
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

/**
 * The question a role change asks first, if any: making anyone an admin, and lowering one's own
 * role, are asked `[y/N]` (one arrow key too many must not make an admin, nor lock oneself out).
 */
export function roleQuestion(db: Database, actorId: string, user: User, role: User['role']): string | undefined {
	if (role === 'admin' && user.role !== 'admin') return `Make ${user.username} an admin? Admins change roles, disable and delete users, and configure self sign-up.`;
	// Lowering a role can put the invitations they sent for a higher one on hold: said before, not after.
	const hold = suspensionWarning(db, user, {role});
	if (user.id === actorId && ROLE_RANK[role] < ROLE_RANK[user.role]) return `Lower your own role from ${user.role} to ${role}? You lose what a ${user.role} may do at once, and cannot raise it back yourself.${hold}`;
	if (hold) return `Make ${user.username} a ${role}?${hold}`;
	return undefined;
}

function RoleForm({user, width, onClose}: {readonly user: User; readonly width: number; readonly onClose: () => void}) {
	const {ctx, actor, db, run, confirm} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	const [error, setError] = useState<FormError | undefined>();
	const roles = grantableRoles(actorFacts(actor));
	return (
		<Form
			title={`Change the role of ${user.username}`}
			fields={[{name: 'role', label: 'Role', kind: 'choice', options: roles.includes(user.role) ? roles : [user.role, ...roles], initial: user.role, hint: '←/→'}]}
			buttons={[{id: 'save', label: 'Change role'}]}
			width={width}
			busy={busy}
			error={error}
			onCancel={onClose}
			onPress={(_button, values) =>
				void (async () => {
					const role = parseRole(values['role'] ?? user.role);
					const question = roleQuestion(db, actor.user.id, user, role);
					if (question && !(await confirm(question))) return;
					setBusy('Saving…');
					const done = await run({
						task: () => setRole(ctx, actor, user.username, role, {expectedRevision: user.revision}),
						failed: setError,
						done: `${user.username} is now ${role}.`,
						command: orgctlCommand('users', 'set-role', user.username, role),
					});
					setBusy(undefined);
					if (done) onClose();
				})()
			}
		/>
	);
}

function PasswordForm({user, width, onClose}: {readonly user: User; readonly width: number; readonly onClose: () => void}) {
	const {ctx, actor, run} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	const [error, setError] = useState<FormError | undefined>();
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
							setError({message: 'The two passwords differ; type the same one twice.', field: 'again'});
							return;
						}
						setBusy('Setting the password…');
						const result = await run({
							task: () => resetUserPassword(ctx, actor, user.username, values['password'] ?? '', {expectedRevision: user.revision}),
							failed: setError,
							done: r => `Password of ${user.username} set; their sessions ended${revokedNote(r.tokensRevoked, 'their')}.`,
							command: `printf %s "$PW" | ${orgctlCommand('users', 'reset-password', user.username, '--password-stdin')}`,
						});
						setBusy(undefined);
						if (result) onClose();
					})()
				}
			/>
		</Box>
	);
}
