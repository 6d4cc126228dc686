import {describe, expect, it} from 'vitest';
import {equivalentCommand, migrateTo, migrationReducer, planLines, startMigration, type MigrationAction, type MigrationState} from '../source/ui/users/migration-state.js';

const items = [
	{kind: 'project', id: 'p1', name: 'web'},
	{kind: 'project', id: 'p2', name: 'api'},
	{kind: 'token', id: 't1aaaaaaaaaa', name: 'deploy (web)'},
] as const;

const run = (state: MigrationState, ...actions: MigrationAction[]) => actions.reduce(migrationReducer, state);

describe('the migration view', () => {
	it('all at once: one target for everything goes straight to the review', () => {
		const state = run(startMigration('bob', 3, items), {type: 'pick.all'}, {type: 'pick.done', username: 'carol'});
		expect(state.step).toBe('review');
		expect(planLines(state)).toEqual(['project web: bob → carol', 'project api: bob → carol', 'API token deploy (web): bob → carol (revoked)', 'then delete bob']);
		expect(migrateTo(state)).toBe('carol');
		expect(equivalentCommand(state)).toBe('orgctl users delete bob --migrate-to carol --yes');
	});

	it('item by item: the review opens only once every item has a target', () => {
		let state = run(startMigration('bob', 3, items), {type: 'pick.one'}, {type: 'pick.done', username: 'carol'}, {type: 'move', delta: 1}, {type: 'pick.one'}, {type: 'pick.done', username: 'root'});
		expect(run(state, {type: 'review'}).step).toBe('items');
		state = run(state, {type: 'move', delta: 5}, {type: 'pick.one'}, {type: 'pick.cancel'}, {type: 'pick.one'}, {type: 'pick.done', username: 'carol'}, {type: 'review'});
		expect(state.step).toBe('review');
		expect(migrateTo(state)).toEqual([
			{kind: 'project', id: 'p1', to: 'carol'},
			{kind: 'project', id: 'p2', to: 'root'},
			{kind: 'token', id: 't1aaaaaaaaaa', to: 'carol'},
		]);
		expect(equivalentCommand(state)).toBe('orgctl users delete bob --move project:web=carol --move project:api=root --move token:t1aaaaaa=carol --yes');
		expect(run(state, {type: 'back'}).step).toBe('items');
	});
});
