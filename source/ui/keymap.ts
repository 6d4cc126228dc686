import {decide, type Action, type ActorFacts} from '../core/policy.js';

/**
 * The one key map of the console: command → keys → description → where. The input router resolves
 * keys to commands with it, the `?` overlay lists it and the status bar shows the part that works
 * where the user is, so the three cannot disagree.
 *
 * `where` names a key context: `global` works everywhere unless a dialog or text field holds the
 * keys; `list` in any windowed list; `filter` while typing a filter; `form` in a form; `dialog` in a
 * confirmation; `detail` in a detail view; a section id (`users`, `account`, ...) inside that section.
 * Add a section's keys as new rows with its id as `where` (see source/README.md, "The console").
 */
export type KeyBinding = {
	readonly command: string;
	/**
	 * The policy action the command needs (core/policy.ts): a user whose role never allows it is
	 * not offered the key (status bar), and pressing it says why; what depends on the row (a
	 * superuser, someone else's invitation) is refused by the section with the core's own check.
	 */
	readonly action?: Action;
	/**
	 * Key names as `keyPressesOf()` produces them: `j`, `G`, `up`, `enter`, `escape`, `tab`,
	 * `shift-tab`, `ctrl-c`, `pageup`. Empty for a row that only documents keys a component reads
	 * itself (the line-editing keys of line-edit.ts), so help lists them too.
	 */
	readonly keys: readonly string[];
	/** How the key is written in help and in the status bar. */
	readonly label: string;
	readonly description: string;
	readonly where: string;
	/** Shown in the status bar (help shows every row). */
	readonly status?: boolean;
	/** A shorter description for the status bar. */
	readonly short?: string;
};

export const KEYMAP = [
	// Everywhere
	{command: 'app.help', keys: ['?'], label: '?', description: 'help: every key', where: 'global', status: true},
	{command: 'app.quit', keys: ['q'], label: 'q', description: 'quit', where: 'global', status: true},
	{command: 'app.interrupt', keys: ['ctrl-c'], label: 'Ctrl-C', description: 'quit (asks when a form has changes)', where: 'global'},
	{command: 'section.next', keys: ['tab'], label: 'Tab', description: 'next section', where: 'global', status: true},
	{command: 'section.previous', keys: ['shift-tab'], label: 'Shift-Tab', description: 'previous section', where: 'global'},
	{command: 'section.goto', keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'], label: '1-9', description: 'go to section by number', where: 'global'},
	{command: 'app.refresh', keys: ['R'], label: 'R', description: 'reload from the store', where: 'global'},
	{command: 'app.lastCommand', keys: [':'], label: ':', description: 'the last message and its orgctl command, whole (y copies the command)', where: 'global'},
	{command: 'app.redraw', keys: ['ctrl-l'], label: 'Ctrl-L', description: 'redraw the screen', where: 'global'},
	{command: 'app.signOut', keys: ['L'], label: 'L', description: 'sign out: ends the session and removes its file', where: 'global'},

	// Lists
	{command: 'list.up', keys: ['up', 'k'], label: '↑/k', description: 'move up', where: 'list'},
	{command: 'list.down', keys: ['down', 'j'], label: '↓/j', description: 'move down', where: 'list', status: true, short: 'move'},
	{command: 'list.pageUp', keys: ['pageup', 'ctrl-u'], label: 'PgUp/Ctrl-U', description: 'page up', where: 'list'},
	{command: 'list.pageDown', keys: ['pagedown', 'ctrl-d'], label: 'PgDn/Ctrl-D', description: 'page down', where: 'list'},
	{command: 'list.first', keys: ['g', 'home'], label: 'g/Home', description: 'first row', where: 'list'},
	{command: 'list.last', keys: ['G', 'end'], label: 'G/End', description: 'last row', where: 'list'},
	{command: 'list.filter', keys: ['/'], label: '/', description: 'filter', where: 'list', status: true},
	{command: 'list.clearFilter', keys: ['escape'], label: 'Esc', description: 'clear the filter', where: 'list'},
	{command: 'list.open', keys: ['enter'], label: 'Enter', description: 'open: every field of the row', where: 'list', status: true, short: 'open'},

	// Typing a filter
	{command: 'filter.keep', keys: ['enter'], label: 'Enter', description: 'keep the filter', where: 'filter', status: true},
	{command: 'filter.clear', keys: ['escape'], label: 'Esc', description: 'clear the filter', where: 'filter', status: true},

	// Forms
	{command: 'form.next', keys: ['tab', 'down'], label: 'Tab', description: 'next field or button', where: 'form', status: true, short: 'next'},
	{command: 'form.previous', keys: ['shift-tab', 'up'], label: 'Shift-Tab/↑', description: 'previous field', where: 'form'},
	{command: 'form.submit', keys: ['enter'], label: 'Enter', description: 'next field; on the last field or on a button: go', where: 'form', status: true, short: 'go'},
	{command: 'form.choice', keys: ['left', 'right'], label: '←/→', description: 'pick the choice to the left or right (it stops at the ends)', where: 'form'},
	{command: 'form.edit', keys: [], label: '← → Home End', description: 'move in a text field; Ctrl-A/E start and end, Alt-B/F by words', where: 'form'},
	{command: 'form.erase', keys: [], label: 'Ctrl-U/K/W', description: 'erase to the start, to the end, the word before; Delete, Backspace', where: 'form'},
	{command: 'form.cancel', keys: ['escape'], label: 'Esc', description: 'cancel the form (asks when you have typed something)', where: 'form-cancel', status: true, short: 'cancel'},

	// Confirmations
	{command: 'dialog.yes', keys: ['y', 'Y'], label: 'y', description: 'yes', where: 'dialog', status: true},
	{command: 'dialog.no', keys: ['n', 'N', 'enter', 'escape'], label: 'n/Enter/Esc', description: 'no (the default)', where: 'dialog', status: true},
	{command: 'typed.confirm', keys: ['enter'], label: 'Enter', description: 'confirm once the name is typed', where: 'typed', status: true},
	{command: 'typed.cancel', keys: ['escape'], label: 'Esc', description: 'cancel', where: 'typed', status: true},

	// Detail views and overlays
	{command: 'view.back', keys: ['escape', 'backspace'], label: 'Esc', description: 'back', where: 'detail', status: true},
	{command: 'value.copy', keys: ['y'], label: 'y', description: 'copy it (also shown on screen)', where: 'value', status: true, short: 'copy'},
	{command: 'value.close', keys: ['escape', 'enter', 'q'], label: 'Esc', description: 'close', where: 'value', status: true},
	{command: 'help.close', keys: ['escape', '?', 'q'], label: 'Esc', description: 'close help', where: 'help', status: true},
	{command: 'help.up', keys: ['up', 'k'], label: '↑/k', description: 'scroll help', where: 'help'},
	{command: 'help.down', keys: ['down', 'j'], label: '↓/j', description: 'scroll help', where: 'help'},
	{command: 'help.pageUp', keys: ['pageup', 'ctrl-u'], label: 'PgUp/Ctrl-U', description: 'a page up', where: 'help'},
	{command: 'help.pageDown', keys: ['pagedown', 'ctrl-d', ' '], label: 'PgDn/Space', description: 'a page down', where: 'help', status: true, short: 'page'},
	{command: 'help.first', keys: ['g', 'home'], label: 'g/Home', description: 'the top of help', where: 'help'},
	{command: 'help.last', keys: ['G', 'end'], label: 'G/End', description: 'the end of help', where: 'help'},
	{command: 'help.search', keys: ['/'], label: '/', description: 'search help (Enter keeps, Esc clears)', where: 'help', status: true, short: 'search'},

	// Manage Invitations
	{command: 'invitations.new', keys: ['n'], label: 'n', description: 'invite someone', where: 'invitations', status: true, short: 'new', action: 'invitations.send'},
	{command: 'invitations.resend', keys: ['r'], label: 'r', description: 'resend the e-mail (renews an expired link)', where: 'invitations', status: true, short: 'resend', action: 'invitations.manage'},
	{command: 'invitations.copy', keys: ['y'], label: 'y', description: 'copy the invitation link (also shown on screen)', where: 'invitations', status: true, short: 'copy', action: 'invitations.manage'},
	{command: 'invitations.revoke', keys: ['d'], label: 'd', description: 'revoke the invitation: its link stops working', where: 'invitations', status: true, short: 'delete', action: 'invitations.manage'},
	{command: 'invitations.bulk', keys: ['b'], label: 'b', description: 'invite many at once from a pasted list', where: 'invitations', short: 'bulk', action: 'invitations.send'},
	{command: 'bulk.lines', keys: [], label: '↑ ↓ ← →', description: 'move in the list; Enter breaks the line, the line keys of a form work too', where: 'bulk'},
	{command: 'bulk.buttons', keys: ['tab'], label: 'Tab', description: 'to the buttons (Enter then presses one)', where: 'bulk', status: true, short: 'buttons'},
	{command: 'bulk.cancel', keys: ['escape'], label: 'Esc', description: 'cancel the bulk invitation (asks when you have typed something)', where: 'bulk', status: true, short: 'cancel'},

	// Configure Self Signup
	{command: 'signup.new', keys: ['n'], label: 'n', description: 'open sign-up for a domain', where: 'signup-domains', status: true, short: 'new', action: 'signup-domains.configure'},
	{command: 'signup.edit', keys: ['e'], label: 'e', description: 'change the role or method of a domain', where: 'signup-domains', status: true, short: 'edit', action: 'signup-domains.configure'},
	{command: 'signup.remove', keys: ['d'], label: 'd', description: 'close sign-up for a domain', where: 'signup-domains', status: true, short: 'close', action: 'signup-domains.configure'},
	// Users (user administration)
	{command: 'users.role', keys: ['e'], label: 'e', description: 'change the role', where: 'users', status: true, short: 'role', action: 'users.manage'},
	{command: 'users.superuser', keys: ['s'], label: 's', description: 'Access Control: grant or revoke superuser', where: 'users', short: 'superuser', action: 'superuser.grant'},
	{command: 'users.disable', keys: ['x'], label: 'x', description: 'disable or enable the account', where: 'users', status: true, short: 'disable', action: 'users.manage'},
	{command: 'users.password', keys: ['p'], label: 'p', description: 'reset the password', where: 'users', short: 'password', action: 'users.manage'},
	{command: 'users.delete', keys: ['d'], label: 'd', description: 'delete (asks for the name; moves what they own first)', where: 'users', status: true, short: 'delete', action: 'users.manage'},

	// The migration view that Delete opens
	{command: 'migration.up', keys: ['up', 'k'], label: '↑/k', description: 'previous item', where: 'migration'},
	{command: 'migration.down', keys: ['down', 'j'], label: '↓/j', description: 'next item', where: 'migration'},
	{command: 'migration.all', keys: ['a'], label: 'a', description: 'move everything to one user', where: 'migration', status: true},
	{command: 'migration.one', keys: ['enter'], label: 'Enter', description: 'choose who gets this item', where: 'migration', status: true},
	{command: 'migration.review', keys: ['c'], label: 'c', description: 'review what will happen, then confirm', where: 'migration', status: true},
	{command: 'migration.back', keys: ['escape'], label: 'Esc', description: 'back', where: 'migration', status: true},
	{command: 'review.confirm', keys: ['enter'], label: 'Enter', description: 'confirm (type the username)', where: 'migration-review', status: true},
	{command: 'review.back', keys: ['escape'], label: 'Esc', description: 'back to the items', where: 'migration-review', status: true},
	{command: 'picker.cancel', keys: ['escape'], label: 'Esc', description: 'back without choosing', where: 'migration-target', status: true},

	// Projects & Tokens
	{command: 'projects.new', keys: ['n'], label: 'n', description: 'new project', where: 'projects', status: true, short: 'new', action: 'projects.create'},
	{command: 'projects.token', keys: ['t'], label: 't', description: 'new API token for the selected project', where: 'projects', status: true, short: 'token', action: 'tokens.create'},
	{command: 'projects.delete', keys: ['d'], label: 'd', description: 'delete the selected project or token', where: 'projects', status: true, short: 'delete'},
	{command: 'projects.reissue', keys: ['r'], label: 'r', description: 're-issue the selected token: a new secret, shown once (a revoked token works again)', where: 'projects', status: true, short: 're-issue', action: 'tokens.reissue'},

	// Superusers, everywhere: the tenant switcher in the header
	{command: 'tenant.switch', keys: ['T'], label: 'T', description: 'switch the console to another tenant', where: 'superuser'},
	{command: 'tenantPicker.cancel', keys: ['escape'], label: 'Esc', description: 'back without switching', where: 'tenant-picker', status: true, short: 'back'},

	// Server Settings
	{command: 'settings.edit', keys: ['e'], label: 'e', description: 'change this setting', where: 'settings-pane', status: true, short: 'edit'},
	{command: 'settings.test', keys: ['t'], label: 't', description: 'send a test e-mail to an address you type', where: 'settings-smtp', status: true, short: 'test e-mail'},
	{command: 'settings.clearSmtp', keys: ['d'], label: 'd', description: 'remove the SMTP settings (mail is then kept as not sent)', where: 'settings-smtp', short: 'remove'},
	{command: 'settings.listener', keys: ['e', 'enter'], label: 'e/Enter', description: 'change the listener', where: 'settings-listeners', status: true, short: 'edit'},
	{command: 'settings.removeListener', keys: ['d'], label: 'd', description: 'remove the listener', where: 'settings-listeners', status: true, short: 'remove'},

	// Tenants
	{command: 'tenants.new', keys: ['n'], label: 'n', description: 'create a tenant', where: 'tenants', status: true, short: 'new'},
	{command: 'tenants.switch', keys: ['s'], label: 's', description: 'act in the selected tenant', where: 'tenants', status: true, short: 'switch'},
	{command: 'tenants.delete', keys: ['d'], label: 'd', description: 'delete the tenant and everything in it (type its name)', where: 'tenants', status: true, short: 'delete'},

	// Single Sign-On
	{command: 'sso.import', keys: ['i'], label: 'i', description: 'import the IdP metadata from an XML file', where: 'sso', status: true, short: 'import'},
	{command: 'sso.edit', keys: ['e'], label: 'e', description: 'set the IdP by hand: entity ID, SSO URL, certificate file', where: 'sso', status: true, short: 'edit'},
	{command: 'sso.match', keys: ['m'], label: 'm', description: 'match users by NameID or by the email attribute', where: 'sso', short: 'match'},
	{command: 'sso.copy', keys: ['y'], label: 'y', description: 'copy our SP metadata for the IdP (also shown on screen)', where: 'sso', status: true, short: 'copy SP metadata'},
	{command: 'sso.view', keys: ['v'], label: 'v', description: 'show our SP metadata', where: 'sso', short: 'view'},
	{command: 'sso.clear', keys: ['d'], label: 'd', description: 'forget the IdP (SAML sign-in stops)', where: 'sso', short: 'forget IdP'},
	{command: 'metadata.up', keys: ['up', 'k'], label: '↑/k', description: 'scroll', where: 'sso-metadata'},
	{command: 'metadata.down', keys: ['down', 'j'], label: '↓/j', description: 'scroll', where: 'sso-metadata', status: true, short: 'scroll'},
	{command: 'metadata.copy', keys: ['y'], label: 'y', description: 'copy it', where: 'sso-metadata', status: true, short: 'copy'},
	{command: 'metadata.back', keys: ['escape'], label: 'Esc', description: 'back', where: 'sso-metadata', status: true},

	// My Account
	{command: 'account.password', keys: ['p'], label: 'p', description: 'change your password', where: 'account', status: true},
] as const satisfies readonly KeyBinding[];

export type Command = (typeof KEYMAP)[number]['command'];

/** Where a key context's rows appear in help, in this order, with a heading. */
export const CONTEXT_TITLES: Readonly<Record<string, string>> = {
	global: 'Everywhere',
	list: 'Lists',
	filter: 'Typing a filter',
	detail: 'Detail views',
	form: 'Forms',
	'form-cancel': 'Forms',
	value: 'A value shown whole (a command, a secret)',
	dialog: 'Confirmations',
	typed: 'Typed confirmations',
	bulk: 'Bulk invitation',
	account: 'My Account',
	superuser: 'Superusers',
	'tenant-picker': 'Switching tenant',
	'sso-metadata': 'Single Sign-On: our SP metadata',
	'settings-pane': 'Server Settings',
	'settings-smtp': 'Server Settings: SMTP',
	'settings-listeners': 'Server Settings: Listeners',
	migration: 'Deleting a user: what they own',
	'migration-review': 'Deleting a user: review',
	'migration-target': 'Deleting a user: choose the new owner',
	help: 'This help',
};

/** The key map row of a command in a context (or anywhere). */
export function bindingOf(command: string, where?: string): KeyBinding | undefined {
	return KEYMAP.find(b => b.command === command && (where === undefined || b.where === where));
}

/**
 * Whether the actor may ever use a command, by the policy action its row names: the keys of
 * what the role never allows are not offered. A command without an action is for everyone.
 */
export function policyRefusal(binding: KeyBinding, facts: ActorFacts | undefined): string | undefined {
	if (!binding.action || !facts) return undefined;
	const decision = decide(facts, binding.action);
	return decision.allowed ? undefined : decision.reason;
}

/** The command a key runs in one of these contexts, first context first. */
export function commandFor(keyName: string, contexts: readonly string[]): Command | undefined {
	for (const where of contexts) {
		for (const binding of KEYMAP) {
			if (binding.where === where && (binding.keys as readonly string[]).includes(keyName)) return binding.command;
		}
	}
	return undefined;
}

/** The rows of the key map for these contexts, in table order. */
export function bindingsFor(contexts: readonly string[], options: {statusOnly?: boolean} = {}): KeyBinding[] {
	return KEYMAP.filter(b => contexts.includes(b.where) && (!options.statusOnly || ('status' in b && b.status)));
}
