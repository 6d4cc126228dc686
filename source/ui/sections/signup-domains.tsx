import {useMemo, useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {actorFacts} from '../../core/context.js';
import {AUTH_METHODS, type AuthMethod, type Role, type SignupDomain} from '../../core/model.js';
import {grantableRoles} from '../../core/policy.js';
import {addSignupDomain, editSignupDomain, listSignupDomainsIn, removeSignupDomain, type SignupDomainView} from '../../core/signup-domains.js';
import {List} from '../components/list.js';
import {Form} from '../components/form.js';
import {useConsole} from '../console-context.js';
import type {FormError} from '../form-state.js';
import {plural} from '../../core/words.js';
import type {Column} from '../columns.js';
import {orgctlCommand} from '../../core/shell.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {Section, SectionProps} from './section.js';

/** What covers the right pane: the list, a form, or one domain's detail. */
type Mode = {readonly kind: 'list'} | {readonly kind: 'add'} | {readonly kind: 'edit'; readonly id: string} | {readonly kind: 'open'; readonly id: string};


/** The sign-up domains table: the domain takes what the counts leave (Enter shows who is at a domain). */
const COLUMNS: readonly Column<SignupDomainView>[] = [
	{title: 'DOMAIN', min: 12, width: 30, priority: 9, grow: 1, cell: d => d.domain},
	{title: 'ROLE', min: 6, width: 6, priority: 8, cell: d => d.role},
	{title: 'METHOD', min: 8, width: 8, priority: 7, cell: d => d.method},
	{title: 'USERS', min: 5, width: 5, priority: 6, cell: d => String(d.users.length)},
	{title: 'INVITES', min: 7, width: 7, priority: 5, cell: d => String(d.invitations.length)},
];

function SignupDomains({width, height}: SectionProps) {
	const {ctx, actor, db, run, confirm} = useConsole();
	const domains = useMemo(() => listSignupDomainsIn(db, actor), [db, actor]);
	const [mode, setMode] = useState<Mode>({kind: 'list'});
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const selected = mode.kind === 'edit' || mode.kind === 'open' ? domains.find(d => d.id === mode.id) : undefined;
	const roles = grantableRoles(actorFacts(actor));
	const back = () => {
		setMode({kind: 'list'});
		setError(undefined);
	};

	const remove = async (domain: SignupDomainView) => {
		const count = domain.users.length + domain.invitations.length;
		const covered = count === 0 ? '' : ` The ${plural(domain.users.length, 'user')} and ${plural(domain.invitations.length, 'pending invitation')} there are not affected.`;
		if (!(await confirm(`Close self sign-up for ${domain.domain}?${covered} Sign-ups waiting for their code end.`))) return;
		await run({
			task: () => removeSignupDomain(ctx, actor, domain.domain),
			busy: `Closing sign-up for ${domain.domain}…`,
			done: `Self sign-up for ${domain.domain} is closed.`,
			command: orgctlCommand('signup-domains', 'remove', domain.domain),
		});
		back();
	};

	const submit = async (values: Readonly<Record<string, string>>) => {
		const role = values['role'] as Role;
		const method = values['method'] as AuthMethod;
		const domain = (values['domain'] ?? '').trim();
		const name = mode.kind === 'add' ? domain : (selected?.domain ?? domain);
		const raising = role === 'admin' && (mode.kind === 'add' || selected?.role !== 'admin');
		if (raising && !(await confirm(`Let everyone with an address at ${name || 'this domain'} sign up as an admin? Admins change roles, disable and delete users.`))) return;
		setBusy('Saving…');
		setError(undefined);
		const result =
			mode.kind === 'add'
				? await run({
						task: () => addSignupDomain(ctx, actor, {domain, role, method}),
						// Also shown in the form, where the admin corrects it.
						failed: setError,
						done: (d: SignupDomain) => `Addresses at ${d.domain} can now sign up as ${d.role} (${d.method}).`,
						command: orgctlCommand('signup-domains', 'add', domain, '--role', role, '--method', method),
					})
				: selected
					? await run({
							task: () => editSignupDomain(ctx, actor, selected.domain, {role, method, revision: selected.revision}),
							failed: setError,
							done: (d: SignupDomain) => `Addresses at ${d.domain} now sign up as ${d.role} (${d.method}).`,
							command: orgctlCommand('signup-domains', 'set', selected.domain, '--role', role, '--method', method),
						})
					: undefined;
		setBusy(undefined);
		if (result) back();
	};

	if (mode.kind === 'add' || (mode.kind === 'edit' && selected)) {
		const editing = mode.kind === 'edit' ? selected : undefined;
		return (
			<Box flexDirection="column" width={width} height={height}>
				<Form
					key={mode.kind}
					title={editing ? `Edit sign-up for ${editing.domain}` : 'Open self sign-up for a domain'}
					fields={[
						...(editing ? [] : [{name: 'domain', label: 'Domain'}]),
						{name: 'role', label: 'Role', kind: 'choice', options: roles, initial: editing?.role ?? (roles.includes('member') ? 'member' : roles[0]), hint: '←/→'},
						{name: 'method', label: 'Sign-in', kind: 'choice', options: AUTH_METHODS, initial: editing?.method ?? 'password', hint: '←/→'},
					]}
					buttons={[{id: 'save', label: editing ? 'Save' : 'Add domain'}]}
					onPress={(_button, values) => void submit(values)}
					onCancel={back}
					busy={busy}
					error={error}
					width={width}
				/>
				<Box marginTop={1}>
					<Text {...theme.muted} wrap="wrap">
						Only addresses whose domain is exactly this one (e.g. corp.com) can sign up; list subdomains on their own.
					</Text>
				</Box>
			</Box>
		);
	}

	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={mode.kind === 'open' ? 'none' : 'flex'}>
				<List
					title="Configure Self Signup"
					items={domains}
					keyOf={d => d.id}
					width={width}
					height={height}
					columns={COLUMNS}
					filterText={d => `${d.domain} ${d.role} ${d.method}`}
					onOpen={d => setMode({kind: 'open', id: d.id})}
					onCommand={(command, d) => {
						switch (command) {
							case 'signup.new':
								setMode({kind: 'add'});
								return true;
							case 'signup.edit':
								if (d) setMode({kind: 'edit', id: d.id});
								return d !== undefined;
							case 'signup.remove':
								if (d) void remove(d);
								return d !== undefined;
							default:
								return false;
						}
					}}
					contexts={['signup-domains']}
					active={mode.kind === 'list'}
					emptyText="No domain is open for sign-up. Press n to add one."
				/>
			</Box>
			{mode.kind === 'open' && selected ? (
				<DomainDetail
					domain={selected}
					width={width}
					height={height}
					onBack={back}
					onNew={() => setMode({kind: 'add'})}
					onEdit={() => setMode({kind: 'edit', id: selected.id})}
					onRemove={() => void remove(selected)}
				/>
			) : null}
		</Box>
	);
}

type DetailProps = {
	readonly domain: SignupDomainView;
	readonly width: number;
	readonly height: number;
	readonly onBack: () => void;
	readonly onNew: () => void;
	readonly onEdit: () => void;
	readonly onRemove: () => void;
};

/** One domain: its role and method, and who at that domain is already here (users, pending invitations). */
function DomainDetail({domain, width, height, onBack, onNew, onEdit, onRemove}: DetailProps) {
	useKeys(
		['detail', 'signup-domains'],
		command => {
			if (command === 'view.back') onBack();
			else if (command === 'signup.new') onNew();
			else if (command === 'signup.edit') onEdit();
			else if (command === 'signup.remove') onRemove();
			else return false;
			return true;
		},
		{priority: PRIORITY.detail},
	);
	// Header lines, two headings and blank lines take 9 rows; the rest is shared by the two lists.
	const room = Math.max(2, height - 9);
	const userRoom = Math.max(1, Math.ceil(room / 2));
	const shown = (names: readonly string[], max: number) => (names.length <= max ? names : [...names.slice(0, max - 1), `… and ${names.length - max + 1} more`]);
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Text {...theme.heading}>
				{domain.domain} <Text {...theme.muted}>(Esc: back)</Text>
			</Text>
			<Text wrap="truncate-end">
				<Text {...theme.muted}>{'Signs up as'.padEnd(14)}</Text>
				{domain.role}, {domain.method}
			</Text>
			<Text> </Text>
			<Text {...theme.heading}>Users at this domain ({domain.users.length})</Text>
			{domain.users.length === 0 ? <Text {...theme.muted}> none</Text> : shown(domain.users, userRoom).map(u => <Text key={u} wrap="truncate-end"> {u}</Text>)}
			<Text> </Text>
			<Text {...theme.heading}>Pending invitations ({domain.invitations.length})</Text>
			{domain.invitations.length === 0 ? <Text {...theme.muted}> none</Text> : shown(domain.invitations, Math.max(1, room - userRoom)).map(i => <Text key={i} wrap="truncate-end"> {i}</Text>)}
		</Box>
	);
}

export const signupDomainsSection: Section = {
	id: 'signup-domains',
	title: 'Configure Self Signup',
	short: 'Self Signup',
	order: 30,
	visibleWith: 'signup-domains.configure',
	Component: SignupDomains,
};
