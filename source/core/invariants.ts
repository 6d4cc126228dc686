import type {ApiToken, Database, Project, User} from './model.js';

/** A list of the database that a rule reads. */
export type InvariantList = 'tenants' | 'users' | 'invitations' | 'projects' | 'tokens' | 'signupDomains' | 'sessions' | 'outbox';

/**
 * What every rule may look up, each part built the first time a rule of this check asks for it,
 * in one pass over its list: a check of the rules on the projects needs some users by id, not the
 * sets of every user's name and e-mail.
 */
export type Index = {
	readonly tenants: ReadonlySet<string>;
	readonly tenantName: (id: string) => string;
	/**
	 * The users whose ids are among `ids`, in one pass over the users that keeps only those: the
	 * rules look up the owners of the projects and tokens and the senders of invitations, a few ids
	 * against 100,000 users, and a map of every user cost a console following a project created
	 * elsewhere 15 ms and 5 MB of garbage (see the commit).
	 */
	readonly usersAmong: (ids: ReadonlySet<string>) => ReadonlyMap<string, User>;
	readonly projects: ReadonlyMap<string, Project>;
};

/** One cross-record rule a schema cannot express: the rule in the product's words, the lists it reads, and its check (the first breach as a phrase). */
export type Invariant = {
	readonly rule: string;
	/** Every list the check reads, directly or through the index: a change to none of them cannot break the rule. */
	readonly lists: readonly InvariantList[];
	readonly check: (db: Database, index: Index) => string | undefined;
};

/** The index of one check of `db` (exported for the test that each rule reads only its lists). */
export function indexOf(db: Database): Index {
	let names: Map<string, string> | undefined;
	const tenantNames = () => (names ??= new Map(db.tenants.map(t => [t.id, t.name])));
	let tenants: Set<string> | undefined;
	let projects: Map<string, Project> | undefined;
	return {
		get tenants() {
			return (tenants ??= new Set(tenantNames().keys()));
		},
		tenantName: id => tenantNames().get(id) ?? id,
		usersAmong: ids => {
			const found = new Map<string, User>();
			if (ids.size > 0) for (const user of db.users) if (ids.has(user.id)) found.set(user.id, user);
			return found;
		},
		get projects() {
			return (projects ??= new Map(db.projects.map(p => [p.id, p])));
		},
	};
}

function firstDuplicate<T>(records: readonly T[], key: (record: T) => string): T | undefined {
	const seen = new Set<string>();
	for (const record of records) {
		const k = key(record);
		if (seen.has(k)) return record;
		seen.add(k);
	}
	return undefined;
}

function uniqueIds(list: InvariantList, what: string): Invariant {
	return {
		rule: `every ${what} has its own id`,
		lists: [list],
		check: db => {
			const twice = firstDuplicate(db[list] as readonly {id: string}[], r => r.id);
			return twice && `${what} id ${twice.id} appears twice`;
		},
	};
}

/**
 * The given field of each record, in lower case, per tenant. Sets of the strings themselves, not of
 * "tenant/name" keys: at 100,000 users those keys were tens of megabytes (toLowerCase returns a
 * string that is already lower case as it is).
 */
function perTenant<T extends {readonly tenantId: string}>(records: readonly T[], field: (record: T) => string, stopAtRepeat = false): {sets: Map<string, Set<string>>; repeat: T | undefined} {
	const sets = new Map<string, Set<string>>();
	for (const record of records) {
		let set = sets.get(record.tenantId);
		if (!set) sets.set(record.tenantId, (set = new Set()));
		const key = field(record).toLowerCase();
		if (stopAtRepeat && set.has(key)) return {sets, repeat: record};
		set.add(key);
	}
	return {sets, repeat: undefined};
}

const sharedInTenant = <T extends {readonly tenantId: string}>(records: readonly T[], field: (record: T) => string): T | undefined => perTenant(records, field, true).repeat;

/** A sign-up domain as the core compares it: lower case, no trailing dot. */
const domainKey = (domain: string) => domain.toLowerCase().replace(/\.$/, '');

/**
 * Every rule that holds across records, checked on every read of the file and before every
 * write (record-lines.ts), so a hand edit that breaks one is refused and a bug cannot commit it.
 * `orgctl admin check` lists every broken one.
 */
export const INVARIANTS: readonly Invariant[] = [
	uniqueIds('tenants', 'tenant'),
	{
		rule: 'tenant names are unique',
		lists: ['tenants'],
		check: db => {
			const twice = firstDuplicate(db.tenants, t => t.name);
			return twice && `tenant name ${twice.name} appears twice`;
		},
	},
	uniqueIds('users', 'user'),
	{
		rule: 'every user belongs to a tenant that exists',
		lists: ['users', 'tenants'],
		check: (db, ix) => {
			const stray = db.users.find(u => !ix.tenants.has(u.tenantId));
			return stray && `user ${stray.username} belongs to a tenant that does not exist`;
		},
	},
	{
		rule: 'a username is used once per tenant, in any case',
		lists: ['users'],
		check: db => {
			const twice = sharedInTenant(db.users, u => u.username);
			return twice && `username ${twice.username} is used twice in one tenant`;
		},
	},
	{
		rule: 'an e-mail address is used once per tenant, in any case',
		lists: ['users'],
		check: db => {
			const twice = sharedInTenant(db.users, u => u.email);
			return twice && `e-mail ${twice.email} is used twice in one tenant`;
		},
	},
	// A disabled superuser or admin still counts: break-glass `admin reset-password` enables them
	// again, while a store with none at all can only be mended by hand. The policy's last-owner
	// guards keep an enabled one where it matters.
	{
		rule: 'there is a superuser once there are users',
		lists: ['users'],
		check: db => (db.users.length > 0 && !db.users.some(u => u.superuser) ? 'no user is a superuser' : undefined),
	},
	{
		rule: 'every tenant with users has an admin',
		lists: ['users', 'tenants'],
		check: (db, ix) => {
			const withUsers = new Set(db.users.map(u => u.tenantId));
			for (const user of db.users) if (user.role === 'admin') withUsers.delete(user.tenantId);
			const [orphan] = withUsers;
			return orphan === undefined ? undefined : `tenant ${ix.tenantName(orphan)} has users but no admin`;
		},
	},
	uniqueIds('invitations', 'invitation'),
	{
		rule: 'every invitation belongs to a tenant that exists',
		lists: ['invitations', 'tenants'],
		check: (db, ix) => {
			const stray = db.invitations.find(i => !ix.tenants.has(i.tenantId));
			return stray && `invitation ${stray.id} belongs to a tenant that does not exist`;
		},
	},
	{
		rule: 'every invitation was sent by a user who exists',
		lists: ['invitations', 'users'],
		check: (db, ix) => {
			const senders = ix.usersAmong(new Set(db.invitations.map(i => i.invitedBy)));
			const stray = db.invitations.find(i => !senders.has(i.invitedBy));
			return stray && `the invitation for ${stray.username} was sent by a user who does not exist`;
		},
	},
	{
		rule: 'a pending invitation holds a username and an e-mail no user of its tenant has',
		lists: ['invitations', 'users'],
		check: db => {
			// Sets of the invitations, which are fewer than the users, looked up once per user.
			const names = perTenant(db.invitations, i => i.username).sets;
			const emails = perTenant(db.invitations, i => i.email).sets;
			for (const user of db.users) {
				const username = user.username.toLowerCase();
				if (names.get(user.tenantId)?.has(username)) {
					const i = db.invitations.find(i => i.tenantId === user.tenantId && i.username.toLowerCase() === username)!;
					return `the invitation for ${i.username} is for a username a user of its tenant has`;
				}
			}
			for (const user of db.users) {
				const email = user.email.toLowerCase();
				if (emails.get(user.tenantId)?.has(email)) {
					const i = db.invitations.find(i => i.tenantId === user.tenantId && i.email.toLowerCase() === email)!;
					return `the invitation to ${i.email} is for an e-mail a user of its tenant has`;
				}
			}
			return undefined;
		},
	},
	{
		rule: 'two pending invitations of one tenant never share a username or an e-mail, in any case',
		lists: ['invitations'],
		check: db => {
			const name = sharedInTenant(db.invitations, i => i.username);
			if (name) return `two invitations are for the username ${name.username} in one tenant`;
			const email = sharedInTenant(db.invitations, i => i.email);
			return email && `two invitations are to ${email.email} in one tenant`;
		},
	},
	uniqueIds('projects', 'project'),
	{
		rule: 'every project belongs to a tenant that exists and is owned by a user of that tenant',
		lists: ['projects', 'tenants', 'users'],
		check: (db, ix) => {
			const owners = ix.usersAmong(new Set(db.projects.map(p => p.owner)));
			for (const project of db.projects) {
				if (!ix.tenants.has(project.tenantId)) return `project ${project.name} belongs to a tenant that does not exist`;
				const owner = owners.get(project.owner);
				if (!owner) return `project ${project.name} is owned by a user who does not exist`;
				if (owner.tenantId !== project.tenantId) return `project ${project.name} of tenant ${ix.tenantName(project.tenantId)} is owned by ${owner.username} of tenant ${ix.tenantName(owner.tenantId)}`;
			}
			return undefined;
		},
	},
	uniqueIds('tokens', 'API token'),
	{
		rule: 'every API token is owned by a user who exists and belongs to a project of its own tenant',
		lists: ['tokens', 'users', 'projects', 'tenants'],
		check: (db, ix) => {
			const owners = ix.usersAmong(new Set(db.tokens.map(t => t.owner)));
			const problem = (token: ApiToken): string | undefined => {
				if (!owners.has(token.owner)) return `API token ${token.name} is owned by a user who does not exist`;
				const project = ix.projects.get(token.projectId);
				if (!project) return `API token ${token.name} belongs to a project that does not exist`;
				if (project.tenantId !== token.tenantId) return `API token ${token.name} of tenant ${ix.tenantName(token.tenantId)} belongs to project ${project.name} of tenant ${ix.tenantName(project.tenantId)}`;
				return undefined;
			};
			for (const token of db.tokens) {
				const found = problem(token);
				if (found) return found;
			}
			return undefined;
		},
	},
	uniqueIds('signupDomains', 'sign-up domain'),
	{
		rule: 'every sign-up domain belongs to a tenant that exists, and is listed once per tenant',
		lists: ['signupDomains', 'tenants'],
		check: (db, ix) => {
			const stray = db.signupDomains.find(d => !ix.tenants.has(d.tenantId));
			if (stray) return `sign-up domain ${stray.domain} belongs to a tenant that does not exist`;
			const twice = sharedInTenant(db.signupDomains, d => domainKey(d.domain));
			return twice && `sign-up domain ${twice.domain} is listed twice in tenant ${ix.tenantName(twice.tenantId)}`;
		},
	},
	uniqueIds('sessions', 'session'),
	uniqueIds('outbox', 'outbox message'),
];

/**
 * The first broken rule as a phrase, or undefined when the data keeps them all. With `changed`,
 * only the rules that read one of those lists: for data that kept every rule before a change that
 * touched only those lists (records added, removed or moved there, or a field of INVARIANT_FIELDS
 * changed), the answer is the same. At 100,000 users the whole check was 150-250 ms, most of it
 * the sets of every user's name and e-mail, which a new project does not need.
 */
export function checkInvariants(db: Database, changed?: ReadonlySet<string>): string | undefined {
	const index = indexOf(db);
	for (const invariant of INVARIANTS) {
		if (changed && !invariant.lists.some(list => changed.has(list))) continue;
		const problem = invariant.check(db, index);
		if (problem) return problem;
	}
	return undefined;
}

/** Every broken rule, one phrase each (for `orgctl admin check`). */
export function brokenInvariants(db: Database): string[] {
	const index = indexOf(db);
	return INVARIANTS.map(invariant => invariant.check(db, index)).filter((problem): problem is string => problem !== undefined);
}

/** A field the invariants read; `as` narrows it to what they use of it (of a role, only whether it is admin). */
export type GuardedField = string | {readonly field: string; readonly as: (value: unknown) => unknown};

/**
 * The fields of each list that the invariants read (names read only to word a message do not
 * count). A commit that adds, removes or moves no record of these lists and changes none of these
 * fields (as narrowed) cannot break an invariant, so the store skips the whole check for it.
 * Keep this beside INVARIANTS; a test reads their field accesses and fails when this list misses one.
 */
export const INVARIANT_FIELDS: Readonly<Partial<Record<keyof Database, readonly GuardedField[]>>> = {
	tenants: ['id', 'name'],
	users: ['id', 'tenantId', 'username', 'email', {field: 'role', as: role => role === 'admin'}, 'superuser'],
	projects: ['id', 'tenantId', 'owner'],
	tokens: ['id', 'tenantId', 'owner', 'projectId'],
	invitations: ['id', 'tenantId', 'username', 'email', 'invitedBy'],
	signupDomains: ['id', 'tenantId', 'domain'],
	sessions: ['id'],
	outbox: ['id'],
};

/** The plain field names of a guard list. */
export function guardedFieldNames(fields: readonly GuardedField[] | undefined): string[] {
	return (fields ?? []).map(f => (typeof f === 'string' ? f : f.field));
}
