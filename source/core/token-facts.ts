import type {Database} from './model.js';
import type {TargetFacts} from './policy.js';
import {usersById} from './users.js';

/**
 * What the policy needs to know about a token, or one about to be made: whose, for whose project,
 * whether it acts as its owner. Its own module, so that a project's delete (projects.ts) asks the
 * same `tokens.manage` question of every token it takes along as tokens.ts asks of one.
 */
export function tokenFacts(db: Database, fields: {owner: string; projectId: string; capabilities: readonly string[]}): TargetFacts {
	const byId = usersById(db);
	const owner = byId.get(fields.owner);
	const projectOwner = byId.get(db.projects.find(p => p.id === fields.projectId)?.owner ?? '');
	return {
		ownerId: fields.owner,
		ownerSuperuser: owner?.superuser ?? false,
		...(projectOwner ? {projectOwnerId: projectOwner.id, projectOwnerSuperuser: projectOwner.superuser} : {}),
		cli: fields.capabilities.includes('cli'),
	};
}
