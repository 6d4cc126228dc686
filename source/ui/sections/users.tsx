import {useMemo, useState} from 'react';
import {Box} from 'ink';
import {actorFacts} from '../../core/context.js';
import {describeOwned, ownedBy} from '../../core/ownership.js';
import {mayView} from '../../core/policy.js';
import {byUsername, listUsersIn, listUsersInSoon, userView} from '../../core/users.js';
import {followRows} from '../follow-rows.js';
import type {User} from '../../core/model.js';
import {List} from '../components/list.js';
import {RecordView} from '../components/record-view.js';
import {useConsole} from '../console-context.js';
import type {Column} from '../columns.js';
import {shortTime} from '../format.js';
import {orgctlCommand} from '../../core/shell.js';
import type {Section, SectionProps} from './section.js';
import {userCommand, userRefusal, UserOverlayView, type UserOverlay} from '../users/user-actions.js';

const status = (user: User) => (user.disabled ? 'disabled' : 'active');

/**
 * The users table (DESIGN §7: the e-mail gives way first, the username last). At 80 columns the
 * pane leaves 62: a 16-character username and a 24-character e-mail show whole, with the role,
 * the superuser mark and the status; the method, like every field, is in the detail (Enter).
 */
export const USER_COLUMNS: readonly Column<User>[] = [
	{title: 'USERNAME', min: 8, width: 16, priority: 9, cell: u => u.username},
	{title: 'E-MAIL', min: 12, width: 24, priority: 6, grow: 1, cell: u => u.email},
	{title: 'ROLE', min: 6, width: 6, priority: 8, cell: u => u.role},
	{title: 'SU', min: 2, width: 2, priority: 5, cell: u => (u.superuser ? '★' : '')},
	{title: 'METHOD', min: 8, width: 8, priority: 3, cell: u => u.method},
	{title: 'STATUS', min: 8, width: 8, priority: 7, cell: status},
];
/** What `/` searches: a stable function, so the list builds its search index once per data change. */
const searchText = (u: User) => `${u.username} ${u.email} ${u.role} ${u.method} ${status(u)}${u.superuser ? ' superuser' : ''}`;

function Users({width, height, starting = false}: SectionProps) {
	const api = useConsole();
	const {actor, db, notify} = api;
	// Derived from the list itself, not the whole data: a change elsewhere keeps the array as it was
	// (StorePort.subscribe), so it neither filters and sorts 100,000 users again nor changes the frame.
	const all = db.users;
	// The console's first frame shows the first page of the list: only that page is sorted for it,
	// and the rest in a microtask after the frame's effects, before the console can read a key
	// (listUsersInSoon, SectionProps.starting). Once: a later build may draw any part of the list.
	const [firstPage] = useState(() => once(starting ? height : 0));
	const follow = useMemo(
		() =>
			followRows<User>(
				list => {
					const page = firstPage();
					return page > 0 ? listUsersInSoon({users: list}, actor, page) : listUsersIn({users: list}, actor);
				},
				u => u.tenantId === actor.tenant.id,
				byUsername,
			),
		[actor, firstPage],
	);
	const users = useMemo(() => follow(all), [follow, all]);
	const [openId, setOpenId] = useState<string | undefined>(undefined);
	const [overlay, setOverlay] = useState<UserOverlay | undefined>(undefined);
	const open = openId && !overlay ? users.find(u => u.id === openId) : undefined;
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={open || overlay ? 'none' : 'flex'}>
				<List
					title="Users"
					items={users}
					keyOf={u => u.id}
					width={width}
					height={height}
					columns={USER_COLUMNS}
					filterText={searchText}
					onOpen={u => {
						setOpenId(u.id);
						notify({kind: 'info', text: `${u.username}: every field.`, command: orgctlCommand('users', 'show', u.username)});
					}}
					onCommand={(command, selected) => userCommand(api, command, selected, setOverlay)}
					refusal={(command, selected) => userRefusal(api, command, selected)}
					targetOf={u => u.username}
					contexts={['users']}
					active={!open && !overlay}
					emptyText="No users in this tenant."
				/>
			</Box>
			{open ? <UserDetail user={open} width={width} height={height} onBack={() => setOpenId(undefined)} onOverlay={setOverlay} /> : null}
			{overlay ? <UserOverlayView overlay={overlay} width={width} height={height} onClose={() => setOverlay(undefined)} /> : null}
		</Box>
	);
}

/** A function that gives `value` the first time it is called and 0 after. */
function once(value: number): () => number {
	let left = value;
	return () => {
		const given = left;
		left = 0;
		return given;
	};
}

type DetailProps = {readonly user: User; readonly width: number; readonly height: number; readonly onBack: () => void; readonly onOverlay: (overlay: UserOverlay) => void};

/** Enter on a user: every field whole; the Users keys (e, s, x, p, d) act on this user here too. */
function UserDetail({user, width, height, onBack, onOverlay}: DetailProps) {
	const api = useConsole();
	const view = userView(api.db, user);
	const rows: Array<readonly [string, string]> = [
		['Username', view.username],
		['E-mail', view.email],
		['Role', view.role],
		['Superuser', view.superuser ? 'yes ★' : 'no'],
		['Sign-in method', view.method + (view.method === 'password' && !view.hasPassword ? ' (no password set)' : '')],
		['Status', view.disabled ? 'disabled' : 'active'],
		['Tenant', view.tenant],
		['Created', shortTime(view.created)],
		['Last login', shortTime(view.lastLogin)],
		// What someone else owns is for admins (DESIGN §2: members see only their own things).
		...(mayView(actorFacts(api.actor), 'ownership.view', {ownerId: user.id}) ? [['Owns', describeOwned(ownedBy(api.db, user.id))] as const] : []),
		['ID', view.id],
	];
	return (
		<RecordView
			title={view.username}
			rows={rows}
			width={width}
			height={height}
			onBack={onBack}
			contexts={['users']}
			onCommand={command => command !== undefined && userCommand(api, command, user, onOverlay)}
			refusal={command => userRefusal(api, command, user)}
		/>
	);
}

export const usersSection: Section = {id: 'users', title: 'Users', order: 10, visibleWith: 'users.list', Component: Users};
