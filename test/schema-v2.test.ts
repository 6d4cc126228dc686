import {readFileSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {buildContext} from '../source/app/context.js';
import {EMPTY_SSO, SCHEMA_VERSION} from '../source/core/model.js';
import {acceptInvitation, createInvitation, revokeInvitation} from '../source/core/invitations.js';
import {createProject} from '../source/core/projects.js';
import {authenticateToken, createToken} from '../source/core/tokens.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {initializedContext, TEST_HASHER} from './helpers/store.js';

const PASSWORD = 'a long enough password';

/**
 * Turns a current store file back into what a version 1 orgctl wrote: no tombstones, so a dead
 * link's fate lived only in the audit log's wording.
 */
function asVersion1(path: string): string {
	const data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
	delete data['invitationTombstones'];
	const text = JSON.stringify({...data, schemaVersion: 1});
	writeFileSync(path, text, {mode: 0o600});
	return text;
}

describe('a store written before invitation tombstones (schema version 1)', () => {
	it('is migrated with a backup, its tombstones kept, and links that died before the upgrade answer as a tampered link', async () => {
		const {ctx, root} = await initializedContext();
		const used = await createInvitation(ctx, root, {username: 'ola', email: 'ola@example.com'}, {sendEmail: false});
		await acceptInvitation(ctx, {link: used.link, password: PASSWORD});
		const revoked = await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
		await revokeInvitation(ctx, root, revoked.invitation.id);
		const original = asVersion1(ctx.store.path);

		const store = await Store.open(ctx.store.path);
		const upgraded = buildContext(store, KeyFile.load(store.path), {now: ctx.now, hasher: TEST_HASHER});
		expect(readFileSync(`${ctx.store.path}.v1.bak`, 'utf8')).toBe(original);
		expect(store.read().invitationTombstones).toEqual([
			expect.objectContaining({id: used.invitation.id, fate: 'accepted', by: 'ola'}),
			expect.objectContaining({id: revoked.invitation.id, fate: 'revoked', by: 'root'}),
		]);
		// A tombstone made before tombstones kept the secret's hash cannot tell the real link from a
		// forged one with the same id, so it says what a tampered link gets, naming no account or revoker.
		await expect(acceptInvitation(upgraded, {link: used.link})).rejects.toThrow(/This invitation link is not valid/);
		await expect(acceptInvitation(upgraded, {link: revoked.link, password: PASSWORD})).rejects.toThrow(/This invitation link is not valid/);
	});

	it('a dead link says what became of it from its tombstone, not from the audit log', async () => {
		const {ctx, root} = await initializedContext();
		const issued = await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
		await revokeInvitation(ctx, root, issued.invitation.id);
		// The audit log can be trimmed (a retention policy): the link still says it was revoked.
		await ctx.store.transact(db => {
			db.audit = [];
		});
		await expect(acceptInvitation(ctx, {link: issued.link, password: PASSWORD})).rejects.toThrow(/was revoked on .* by root/);
	});
});

describe('a store written before audit events carried a client address (schema version 2)', () => {
	it('is opened as the current version with a backup, its audit unchanged, and an older orgctl would refuse the new file', async () => {
		const {ctx, root} = await initializedContext();
		await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as {audit: unknown[]};
		const original = JSON.stringify({...data, schemaVersion: 2});
		writeFileSync(ctx.store.path, original, {mode: 0o600});

		const store = await Store.open(ctx.store.path);
		expect(readFileSync(`${ctx.store.path}.v2.bak`, 'utf8')).toBe(original);
		expect(store.read().schemaVersion).toBe(SCHEMA_VERSION);
		expect(store.read().audit).toEqual(data.audit);
		await expect(Store.open(ctx.store.path, {schemaVersion: 2, migrations: []})).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION}, newer than the 2`));
	});
});

/** A current store file without what version 7 added (single sign-on's requests, used assertions and waiting terminals). */
function withoutSamlState(data: Record<string, unknown>): Record<string, unknown> {
	const {samlRequests: _requests, samlAssertions: _assertions, deviceLogins: _logins, ...rest} = data;
	return rest;
}

describe('a store written before single sign-on had its shape (schema version 4, sso always null)', () => {
	it('is opened at the current schema version with a backup and an empty single sign-on setting, everything else unchanged', async () => {
		const {ctx} = await initializedContext();
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as {settings: Record<string, unknown>};
		const original = JSON.stringify({...withoutSamlState(data), schemaVersion: 4, settings: {...data.settings, sso: null}});
		writeFileSync(ctx.store.path, original, {mode: 0o600});

		const store = await Store.open(ctx.store.path);
		expect(readFileSync(`${ctx.store.path}.v4.bak`, 'utf8')).toBe(original);
		expect(store.read().schemaVersion).toBe(SCHEMA_VERSION);
		expect(store.read().settings).toEqual({...data.settings, sso: EMPTY_SSO});
		await expect(Store.open(ctx.store.path, {schemaVersion: 4, migrations: []})).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION}, newer than the 4`));
	});
});

describe('a store written before a token could be revoked and kept (schema version 5)', () => {
	it('is opened at the current schema version with every token live (revoked: null), a backup of the original, and its secrets still working', async () => {
		const {ctx, root} = await initializedContext();
		await createProject(ctx, root, {name: 'web'});
		const {secret} = await createToken(ctx, root, {name: 'deploy', project: 'web', capabilities: ['cli']});
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as {tokens: Record<string, unknown>[]};
		const original = JSON.stringify({...withoutSamlState(data), schemaVersion: 5, tokens: data.tokens.map(({revoked: _revoked, ...t}) => t)});
		writeFileSync(ctx.store.path, original, {mode: 0o600});

		const store = await Store.open(ctx.store.path);
		expect(readFileSync(`${ctx.store.path}.v5.bak`, 'utf8')).toBe(original);
		expect(store.read().schemaVersion).toBe(SCHEMA_VERSION);
		expect(store.read().tokens.map(t => t.revoked)).toEqual([null]);
		const reopened = {...ctx, store};
		await expect(authenticateToken(reopened, secret)).resolves.toMatchObject({user: {username: 'root'}});
	});
});

describe('a store written before single sign-on kept its state in the store (schema version 6)', () => {
	it('is opened as version 7 with a backup, no SAML requests, used assertions or waiting terminals, everything else unchanged', async () => {
		const {ctx, root} = await initializedContext();
		await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as Record<string, unknown>;
		const original = JSON.stringify({...withoutSamlState(data), schemaVersion: 6});
		writeFileSync(ctx.store.path, original, {mode: 0o600});

		const store = await Store.open(ctx.store.path);
		expect(readFileSync(`${ctx.store.path}.v6.bak`, 'utf8')).toBe(original);
		const db = store.read();
		expect(db.schemaVersion).toBe(7);
		expect(db.samlRequests).toEqual([]);
		expect(db.samlAssertions).toEqual([]);
		expect(db.deviceLogins).toEqual([]);
		expect(db.invitations).toEqual(data['invitations']);
		expect(db.tokens).toEqual(data['tokens']);
		expect(db.settings).toEqual(data['settings']);
		await expect(Store.open(ctx.store.path, {schemaVersion: 6, migrations: []})).rejects.toThrow(/schema version 7, newer than the 6/);
	});
});
