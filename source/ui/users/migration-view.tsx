import {useMemo} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import type {User} from '../../core/model.js';
import {eligibleOwners, revocationNotice, type OwnedItem} from '../../core/ownership.js';
import {deleteUser, previewDeletion} from '../../core/user-admin.js';
import {isOrgError} from '../../core/errors.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import {plural} from '../../core/words.js';
import {table, type Column} from '../columns.js';
import {fit} from '../format.js';
import useBurstReducer from '../hooks/use-burst-reducer.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import {equivalentCommand, migrateTo, migrationReducer, pickingItems, planLines, startMigration, unassigned, type MigrationState} from './migration-state.js';

type Props = {readonly user: User; readonly items: readonly OwnedItem[]; readonly width: number; readonly height: number; readonly onClose: () => void};

const KIND = {project: 'project', token: 'token', invitation: 'invite'} as const;

/** Who may take over: the username keeps its width, the e-mail takes what is left. */
const TARGET_COLUMNS: readonly Column<User>[] = [
	{title: 'USERNAME', min: 8, width: 20, priority: 9, cell: u => u.username},
	{title: 'ROLE', min: 7, width: 7, priority: 8, cell: u => u.role},
	{title: 'E-MAIL', min: 8, width: 20, priority: 1, grow: 1, cell: u => u.email},
];

/** What the user owns and who gets each item. */
function itemColumns(targets: Readonly<Record<string, string>>): Column<OwnedItem>[] {
	return [
		{title: 'KIND', min: 8, width: 8, priority: 7, cell: item => KIND[item.kind]},
		{title: 'NAME', min: 10, width: 20, priority: 9, grow: 1, cell: item => item.name},
		{title: 'NEW OWNER', min: 12, width: 18, priority: 8, cell: item => (targets[item.id] ? `→ ${targets[item.id]}` : '?')},
	];
}

/**
 * Delete on a user who owns things: lists what they own, a new owner for everything (`a`) or per
 * item (Enter) from a filtered list of users allowed to own it, then the plan, a typed
 * confirmation, and one transaction that moves everything and deletes the user.
 */
export function MigrationView({user, items, width, height, onClose}: Props) {
	const api = useConsole();
	const {ctx, actor, run, confirmTyped} = api;
	// Keys of a burst arrive before React re-renders: Enter on the review confirms the newest plan.
	const [state, dispatch, latest] = useBurstReducer(migrationReducer, () => startMigration(user.username, user.revision, items));

	useKeys(
		['migration'],
		command => {
			switch (command) {
				case 'migration.up':
					dispatch({type: 'move', delta: -1});
					return true;
				case 'migration.down':
					dispatch({type: 'move', delta: 1});
					return true;
				case 'migration.all':
					dispatch({type: 'pick.all'});
					return true;
				case 'migration.one':
					dispatch({type: 'pick.one'});
					return true;
				case 'migration.review':
					dispatch({type: 'review'});
					return true;
				case 'migration.back':
					onClose();
					return true;
				default:
					return true;
			}
		},
		{priority: PRIORITY.detail, kind: 'modal', active: state.step === 'items'},
	);

	useKeys(
		['migration-target'],
		command => {
			if (command === 'picker.cancel') dispatch({type: 'pick.cancel'});
			return command !== undefined || true;
		},
		// Below the picker's list, so the list sees j/k, / and Enter first; modal so q does not quit.
		{priority: PRIORITY.section, kind: 'modal', active: state.step === 'target'},
	);

	const commit = async (plan: MigrationState) => {
		const moves = plan.items.length;
		const sure = await confirmTyped(`Move ${plural(moves, 'item')} as shown and delete ${plan.username}?`, plan.username);
		if (!sure) return;
		const result = await run({
			task: () => deleteUser(ctx, actor, plan.username, {migrateTo: migrateTo(plan), expectedRevision: plan.revision}),
			busy: `Moving ${plural(moves, 'item')} and deleting ${plan.username}…`,
			done: r => `Deleted ${r.user.username} after moving ${plural(r.moves.length, 'item')}.`,
			command: equivalentCommand(plan),
		});
		if (result) onClose();
	};

	useKeys(
		['migration-review'],
		command => {
			if (command === 'review.confirm') void commit(latest());
			else if (command === 'review.back') dispatch({type: 'back'});
			return true;
		},
		{priority: PRIORITY.detail, kind: 'modal', active: state.step === 'review'},
	);

	const candidates = useMemo(() => (state.step === 'target' ? eligibleOwners(ctx, actor, user.username, pickingItems(state)) : []), [ctx, actor, user.username, state]);
	const preview = useMemo(() => {
		if (state.step !== 'review') return undefined;
		try {
			previewDeletion(ctx, actor, user.username, {migrateTo: migrateTo(state), expectedRevision: state.revision});
			return undefined;
		} catch (error) {
			return isOrgError(error) ? error.message : String(error);
		}
	}, [ctx, actor, user.username, state]);

	if (state.step === 'target') {
		const what = state.picking === 'all' ? `all of ${user.username}'s` : (pickingItems(state)[0]?.name ?? '');
		return (
			<List
				title={fit(`New owner: ${what}`, Math.max(10, width - 26)).trimEnd()}
				items={candidates}
				keyOf={u => u.id}
				width={width}
				height={height}
				columns={TARGET_COLUMNS}
				filterText={u => `${u.username} ${u.email} ${u.role}`}
				onOpen={u => dispatch({type: 'pick.done', username: u.username})}
				contexts={['migration-target']}
				emptyText="Nobody else here may own these (guests and disabled users cannot)."
			/>
		);
	}

	// Said before anyone confirms (DESIGN §2: a credential never changes hands).
	const notice = revocationNotice(items);
	if (state.step === 'review') {
		const lines = planLines(state);
		const room = Math.max(1, height - 6 - (notice ? Math.ceil(notice.length / Math.max(1, width)) : 0));
		return (
			<Box flexDirection="column" width={width}>
				<Text {...theme.heading}>{fit(`Delete ${user.username}: what will happen`, width)}</Text>
				<Text> </Text>
				{lines.slice(0, room).map(line => (
					<Text key={line} wrap="truncate-end">
						{'  '}
						{line}
					</Text>
				))}
				{lines.length > room ? <Text {...theme.muted}>{`  … and ${lines.length - room} more`}</Text> : null}
				<Text> </Text>
				{preview ? (
					<Text {...theme.error} wrap="wrap">
						{preview}
					</Text>
				) : (
					<>
						{notice ? (
							<Text {...theme.warning} wrap="wrap">
								{notice}
							</Text>
						) : null}
						<Text {...theme.muted} wrap="truncate-end">
							One transaction: everything moves and {user.username} is deleted, or nothing changes.
						</Text>
					</>
				)}
			</Box>
		);
	}

	const left = unassigned(state);
	const room = Math.max(1, height - 5 - (notice ? 1 : 0));
	const top = Math.max(0, Math.min(state.cursor - room + 1, items.length - room));
	const layout = table(itemColumns(state.targets), width - 1);
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading}>{fit(`Delete ${user.username}: move what they own first`, width)}</Text>
			<Text wrap="truncate-end" {...theme.muted}>
				{left === 0 ? 'Every item has a new owner: c to review.' : `a: all to one user · Enter: this item · ${left} without a new owner`}
			</Text>
			{notice ? (
				<Text wrap="truncate-end" {...theme.warning}>
					{fit('Moved tokens are revoked; their new owner re-issues.', width)}
				</Text>
			) : null}
			<Text> {layout.header}</Text>
			{items.slice(top, top + room).map((item, i) => {
				const selected = top + i === state.cursor;
				return (
					<Text key={item.id} wrap="truncate-end" {...(selected ? theme.selected : {})}>
						{selected ? theme.pointer : ' '}
						{layout.line(item)}
					</Text>
				);
			})}
		</Box>
	);
}
