import {ownedItemRef, type OwnedItem} from '../../core/ownership.js';
import {orgctlCommand} from '../../core/shell.js';
import type {MigrateTo} from '../../core/user-admin.js';

/**
 * The migration view that Delete opens on a user who owns things, as a pure reducer: the items,
 * who each goes to, then a review of what will happen. The console renders it, asks for the typed
 * confirmation (confirmTyped) and runs `deleteUser` with `migrateTo(state)`.
 */
export type MigrationStep =
	/** Choosing targets: Enter gives the selected item a target, `a` gives all items one. */
	| 'items'
	/** Picking a target from the filtered list of users allowed to own what is being moved. */
	| 'target'
	/** Everything has a target: the plan, before the typed confirmation. */
	| 'review';

export type MigrationState = {
	readonly username: string;
	/** The user's revision when the view opened, so a change by another admin is caught. */
	readonly revision: number;
	readonly items: readonly OwnedItem[];
	readonly step: MigrationStep;
	/** The selected item in the items step. */
	readonly cursor: number;
	/** New owner per item id. */
	readonly targets: Readonly<Record<string, string>>;
	/** Which items the target picker assigns: all of them, or one. */
	readonly picking: 'all' | {readonly item: string} | null;
};

export type MigrationAction =
	| {readonly type: 'move'; readonly delta: number}
	| {readonly type: 'pick.all'}
	| {readonly type: 'pick.one'}
	| {readonly type: 'pick.done'; readonly username: string}
	| {readonly type: 'pick.cancel'}
	| {readonly type: 'review'}
	| {readonly type: 'back'};

export function startMigration(username: string, revision: number, items: readonly OwnedItem[]): MigrationState {
	return {username, revision, items, step: 'items', cursor: 0, targets: {}, picking: null};
}

export function unassigned(state: MigrationState): number {
	return state.items.filter(i => state.targets[i.id] === undefined).length;
}

/** The items the picker is choosing a target for. */
export function pickingItems(state: MigrationState): OwnedItem[] {
	const {picking} = state;
	if (picking === 'all') return [...state.items];
	return picking ? state.items.filter(i => i.id === picking.item) : [];
}

export function migrationReducer(state: MigrationState, action: MigrationAction): MigrationState {
	switch (action.type) {
		case 'move': {
			if (state.step !== 'items' || state.items.length === 0) return state;
			const cursor = Math.min(Math.max(0, state.cursor + action.delta), state.items.length - 1);
			return cursor === state.cursor ? state : {...state, cursor};
		}
		case 'pick.all':
			return state.step === 'items' ? {...state, step: 'target', picking: 'all'} : state;
		case 'pick.one': {
			const item = state.items[state.cursor];
			return state.step === 'items' && item ? {...state, step: 'target', picking: {item: item.id}} : state;
		}
		case 'pick.done': {
			if (state.step !== 'target' || state.picking === null) return state;
			const targets = {...state.targets};
			for (const item of pickingItems(state)) targets[item.id] = action.username;
			const next: MigrationState = {...state, targets, step: 'items', picking: null};
			// Everything assigned at once goes straight to the review.
			return unassigned(next) === 0 && state.picking === 'all' ? {...next, step: 'review'} : next;
		}
		case 'pick.cancel':
			return state.step === 'target' ? {...state, step: 'items', picking: null} : state;
		case 'review':
			return state.step === 'items' && unassigned(state) === 0 ? {...state, step: 'review'} : state;
		case 'back':
			return state.step === 'review' ? {...state, step: 'items'} : state.step === 'target' ? {...state, step: 'items', picking: null} : state;
	}
}

/** What deleteUser gets: one name when everything goes to one user, else the item-by-item plan. */
export function migrateTo(state: MigrationState): MigrateTo {
	const owners = new Set(state.items.map(i => state.targets[i.id]));
	if (owners.size === 1) {
		const [only] = owners;
		if (only !== undefined) return only;
	}
	return state.items.map(i => ({kind: i.kind, id: i.id, to: state.targets[i.id] ?? ''}));
}

/** The lines of the review: each move (a token's says its secret is revoked), then the delete. */
export function planLines(state: MigrationState): string[] {
	const label = {project: 'project', token: 'API token', invitation: 'invitation'} as const;
	const revoked = (i: OwnedItem) => (i.kind === 'token' ? ' (revoked)' : '');
	return [...state.items.map(i => `${label[i.kind]} ${i.name}: ${state.username} → ${state.targets[i.id] ?? '?'}${revoked(i)}`), `then delete ${state.username}`];
}

/**
 * The equivalent command for the status line, so the same can be scripted next time: one
 * `users delete`, which moves and deletes in one transaction as the console did.
 */
export function equivalentCommand(state: MigrationState): string {
	const to = migrateTo(state);
	if (typeof to === 'string') return orgctlCommand('users', 'delete', state.username, '--migrate-to', to, '--yes');
	const moves = state.items.flatMap(item => ['--move', `${item.kind}:${ownedItemRef(state.items, item)}=${state.targets[item.id] ?? '?'}`]);
	return orgctlCommand('users', 'delete', state.username, ...moves, '--yes');
}
