import {describe, expect, it} from 'vitest';
import {sha256} from '../source/core/ids.js';
import {createProject, deleteProject, listProjects, transferProject} from '../source/core/projects.js';
import {authenticateToken, createToken, deleteToken, listTokens, reissueToken, transferToken} from '../source/core/tokens.js';
import {actorOf, addUser, ownership} from './helpers/people.js';
import {initializedContext} from './helpers/store.js';
import {storedText} from './helpers/backend.js';

describe('projects', () => {
	it('a member creates their own projects but not for someone else; an admin creates for anyone in the tenant', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia');
		await addUser(ctx, root.tenant.id, 'max');
		const mia = actorOf(ctx, 'mia');
		await createProject(ctx, mia, {name: 'mine'});
		await expect(createProject(ctx, mia, {name: 'yours', owner: 'max'})).rejects.toThrow('Members can create projects only for themselves.');
		await createProject(ctx, root, {name: 'for-max', owner: 'max'});
		expect(ownership(ctx)).toEqual({'project mine': 'mia', 'project for-max': 'max'});
		expect(ctx.store.read().audit.at(-2)).toMatchObject({actor: 'mia', action: 'project.create', result: 'refused'});
	});

	it('guests cannot create projects, and nobody can give one to a guest', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'gus', {role: 'guest'});
		await expect(createProject(ctx, actorOf(ctx, 'gus'), {name: 'x'})).rejects.toThrow('Guests cannot create projects.');
		await expect(createProject(ctx, root, {name: 'x', owner: 'gus'})).rejects.toThrow(/gus is a guest/);
	});

	it('names are unique per tenant, whatever the case', async () => {
		const {ctx, root} = await initializedContext();
		await createProject(ctx, root, {name: 'Web'});
		await expect(createProject(ctx, root, {name: 'web'})).rejects.toThrow('A project named Web already exists in this tenant.');
	});

	it('transfer needs an admin; delete takes the project’s tokens with it', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia');
		await addUser(ctx, root.tenant.id, 'max');
		const mia = actorOf(ctx, 'mia');
		await createProject(ctx, mia, {name: 'web'});
		await createToken(ctx, mia, {name: 'ci', project: 'web'});
		await expect(transferProject(ctx, mia, 'web', 'max')).rejects.toThrow('Only admins can move projects and tokens to another user.');
		await transferProject(ctx, root, 'web', 'max');
		expect((await listProjects(ctx, root)).map(p => [p.name, p.ownerName, p.tokens])).toEqual([['web', 'max', 1]]);
		await expect(deleteProject(ctx, mia, 'web')).rejects.toThrow('Only its owner or an admin can change or delete a project.');
		// The token stayed mia's: max may delete his project but not her token, so not the project with it (red team #9).
		await expect(deleteProject(ctx, actorOf(ctx, 'max'), 'web')).rejects.toThrow(/^Deleting the project web would delete an API token you may not delete: ci \(\w{8}, owned by mia\)\./);
		const {tokensDeleted} = await deleteProject(ctx, root, 'web');
		expect(tokensDeleted).toBe(1);
		expect(ctx.store.read().tokens).toHaveLength(0);
	});
});

describe('API tokens', () => {
	it('the secret is shown once and stored only as its SHA-256; it authenticates its owner', async () => {
		const {ctx, root} = await initializedContext();
		await createProject(ctx, root, {name: 'web'});
		const {token, secret} = await createToken(ctx, root, {name: 'ci', project: 'web', capabilities: ['error:post', 'cli']});
		const [id, raw] = secret.split('.');
		expect(id).toBe(token.id);
		expect(token.secretHash).toBe(sha256(raw!));
		expect(await storedText(ctx.store, ctx.dir)).not.toContain(raw);
		expect((await listTokens(ctx, root))[0]).not.toHaveProperty('secretHash');
		expect((await listTokens(ctx, root))[0]).toMatchObject({name: 'ci', project: 'web', ownerName: 'root', capabilities: ['error:post', 'cli']});
		expect((await authenticateToken(ctx, secret)).user.username).toBe('root');
		await expect(authenticateToken(ctx, `${id}.${'x'.repeat(43)}`)).rejects.toThrow(/not valid/);
	});

	it('refuses unknown capabilities, and members may create tokens only for their own projects', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia');
		await createProject(ctx, root, {name: 'web'});
		await expect(createToken(ctx, root, {name: 'ci', project: 'web', capabilities: ['root:all']})).rejects.toThrow('"root:all" is not a token capability: use error:post, symbol:post, query:post, sync:post, cli.');
		await expect(createToken(ctx, actorOf(ctx, 'mia'), {name: 'ci', project: 'web'})).rejects.toThrow('Members can create API tokens only for their own projects.');
	});

	it('a deleted token stops working at once; a transferred one stops too, until its new owner re-issues it', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin'});
		await createProject(ctx, root, {name: 'web'});
		const first = await createToken(ctx, root, {name: 'one', project: 'web', capabilities: ['cli']});
		const second = await createToken(ctx, root, {name: 'two', project: 'web', capabilities: ['cli']});
		await transferToken(ctx, root, first.token.id.slice(0, 8), 'ada');
		await expect(authenticateToken(ctx, first.secret)).rejects.toThrow(/revoked .*it moved from root to ada/);
		const {secret} = await reissueToken(ctx, actorOf(ctx, 'ada'), first.token.id.slice(0, 8));
		expect((await authenticateToken(ctx, secret)).user.username).toBe('ada');
		await deleteToken(ctx, root, second.token.id);
		await expect(authenticateToken(ctx, second.secret)).rejects.toThrow(/not valid/);
	});
});
