import type {Database} from './model.js';

/**
 * Cross-record rules that a schema cannot express. Returns the first broken rule as a phrase, or
 * undefined. Checked on every read of the file and before every write, so a hand edit that breaks
 * them is refused and a bug cannot commit them.
 */
export function checkInvariants(db: Database): string | undefined {
	const tenantIds = new Set<string>();
	const tenantNames = new Set<string>();
	for (const tenant of db.tenants) {
		if (tenantIds.has(tenant.id)) return `tenant id ${tenant.id} appears twice`;
		if (tenantNames.has(tenant.name)) return `tenant name ${tenant.name} appears twice`;
		tenantIds.add(tenant.id);
		tenantNames.add(tenant.name);
	}
	const userIds = new Set<string>();
	const names = new Set<string>();
	const emails = new Set<string>();
	for (const user of db.users) {
		if (userIds.has(user.id)) return `user id ${user.id} appears twice`;
		if (!tenantIds.has(user.tenantId)) return `user ${user.username} belongs to a tenant that does not exist`;
		const name = `${user.tenantId}/${user.username.toLowerCase()}`;
		const email = `${user.tenantId}/${user.email.toLowerCase()}`;
		if (names.has(name)) return `username ${user.username} is used twice in one tenant`;
		if (emails.has(email)) return `e-mail ${user.email} is used twice in one tenant`;
		userIds.add(user.id);
		names.add(name);
		emails.add(email);
	}
	const ids = (records: readonly {id: string}[], what: string): string | undefined => {
		const seen = new Set<string>();
		for (const record of records) {
			if (seen.has(record.id)) return `${what} id ${record.id} appears twice`;
			seen.add(record.id);
		}
		return undefined;
	};
	const projectIds = new Set(db.projects.map(p => p.id));
	for (const project of db.projects) {
		if (!userIds.has(project.owner)) return `project ${project.name} is owned by a user who does not exist`;
	}
	for (const token of db.tokens) {
		if (!userIds.has(token.owner)) return `API token ${token.name} is owned by a user who does not exist`;
		if (!projectIds.has(token.projectId)) return `API token ${token.name} belongs to a project that does not exist`;
	}
	for (const invitation of db.invitations) {
		if (!tenantIds.has(invitation.tenantId)) return `invitation ${invitation.id} belongs to a tenant that does not exist`;
	}
	return (
		ids(db.invitations, 'invitation') ??
		ids(db.projects, 'project') ??
		ids(db.tokens, 'API token') ??
		ids(db.signupDomains, 'sign-up domain') ??
		ids(db.sessions, 'session') ??
		ids(db.outbox, 'outbox message')
	);
}

/**
 * The fields of each list that checkInvariants reads (names read only to word a message do not
 * count). A commit that adds, removes or moves no record of these lists and changes none of these
 * fields cannot break an invariant, so the store skips the whole check for it: at 10,000 users the
 * check costs more than the rest of a commit. Keep this beside checkInvariants; a test reads
 * checkInvariants' field accesses and fails when this list misses one.
 */
export const INVARIANT_FIELDS: Readonly<Partial<Record<keyof Database, readonly string[]>>> = {
	tenants: ['id', 'name'],
	users: ['id', 'tenantId', 'username', 'email'],
	projects: ['id', 'owner'],
	tokens: ['id', 'owner', 'projectId'],
	invitations: ['id', 'tenantId'],
	signupDomains: ['id'],
	sessions: ['id'],
	outbox: ['id'],
};
