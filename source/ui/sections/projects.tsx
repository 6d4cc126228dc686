import {useMemo, useState} from 'react';
import {Box} from 'ink';
import {actorFacts} from '../../core/context.js';
import {isOrgError} from '../../core/errors.js';
import {decide} from '../../core/policy.js';
import {assertMayDeleteProject, createProject, deleteProject, listProjectsIn, type ProjectView} from '../../core/projects.js';
import {assertMayAddToken, assertMayDeleteToken, assertMayReissueToken, createToken, deleteToken, listTokensIn, reissueToken, TOKEN_CAPABILITIES, type TokenView} from '../../core/tokens.js';
import {List} from '../components/list.js';
import {Form} from '../components/form.js';
import {RecordView} from '../components/record-view.js';
import {useConsole, type ConsoleApi} from '../console-context.js';
import type {Column} from '../columns.js';
import type {FormError} from '../form-state.js';
import {shortTime} from '../format.js';
import {plural} from '../../core/words.js';
import {orgctlCommand} from '../../core/shell.js';
import type {Command} from '../keymap.js';
import type {Section, SectionProps} from './section.js';

/** One line of the section: a project, or one of its tokens under it. */
type Row = {readonly kind: 'project'; readonly project: ProjectView} | {readonly kind: 'token'; readonly token: TokenView; readonly project: ProjectView};

/**
 * Projects and their tokens in one table: a token's row names its capabilities where a project's
 * counts its tokens. Tokens hang under their project with `└` (one column wide in every terminal,
 * where a key symbol is two in some, which pushed the rows out of line with the header).
 */
const COLUMNS: readonly Column<Row>[] = [
	{title: 'NAME', min: 12, width: 24, priority: 9, grow: 1, cell: r => (r.kind === 'project' ? r.project.name : ` └ ${r.token.name}`)},
	{title: 'OWNER', min: 8, width: 16, priority: 8, cell: r => (r.kind === 'project' ? r.project.ownerName : r.token.ownerName)},
	{title: 'TOKENS / CAPABILITIES', min: 12, width: 21, priority: 7, cell: r => (r.kind === 'project' ? plural(r.project.tokens, 'token') : `${r.token.revoked ? 'revoked: ' : ''}${r.token.capabilities.join(',')}`)},
];

type Overlay = {readonly kind: 'new-project'} | {readonly kind: 'new-token'; readonly project: ProjectView} | {readonly kind: 'open'; readonly id: string};

/** Runs one of the core's checks and returns its sentence instead of throwing it. */
function refusalOf(check: () => void): string | undefined {
	try {
		check();
		return undefined;
	} catch (error) {
		if (isOrgError(error)) return error.message;
		throw error;
	}
}

/** Why `t`, `d` or `r` is refused on this row: the core's own checks, the ones the operations run (the policy's rows). */
function projectRefusal(api: ConsoleApi, command: Command, row: Row | undefined): string | undefined {
	if (!row) return undefined;
	if (command === 'projects.token') return refusalOf(() => assertMayAddToken(api.db, api.actor, row.project));
	if (command === 'projects.delete') {
		return row.kind === 'project' ? refusalOf(() => assertMayDeleteProject(api.db, api.actor, row.project)) : refusalOf(() => assertMayDeleteToken(api.db, api.actor, row.token));
	}
	if (command === 'projects.reissue' && row.kind === 'token') return refusalOf(() => assertMayReissueToken(api.db, api.actor, row.token));
	return undefined;
}

function ProjectsAndTokens({width, height}: SectionProps) {
	const api = useConsole();
	const {ctx, actor, db, run, confirm, reveal} = api;
	const [overlay, setOverlay] = useState<Overlay | undefined>(undefined);
	const rows = useMemo(() => {
		const tokens = listTokensIn(db, actor);
		return listProjectsIn(db, actor).flatMap((project): Row[] => [{kind: 'project', project}, ...tokens.filter(t => t.projectId === project.id).map(token => ({kind: 'token' as const, token, project}))]);
	}, [db, actor]);
	const keyOf = (r: Row) => (r.kind === 'project' ? r.project.id : r.token.id);
	const open = overlay?.kind === 'open' ? rows.find(r => keyOf(r) === overlay.id) : undefined;

	const revealSecret = (created: CreatedToken, project: ProjectView) =>
		reveal({
			title: `API token ${created.name} for ${project.name}`,
			lead: ['Copy the secret now: it is shown only this once and cannot be shown again.'],
			warning: true,
			value: created.secret,
			what: 'The secret',
			note: created.capabilities.includes('cli') ? 'Use it as ORGCTL_TOKEN to run orgctl as yourself (the cli capability).' : 'Use it with the server’s API; with the cli capability it also works as ORGCTL_TOKEN.',
		});

	const command = (name: Command, selected: Row | undefined): boolean => {
		switch (name) {
			case 'projects.new':
				setOverlay({kind: 'new-project'});
				return true;
			case 'projects.token':
				if (selected) setOverlay({kind: 'new-token', project: selected.project});
				return true;
			case 'projects.reissue':
				if (selected?.kind !== 'token') return true;
				void (async () => {
					const {token, project} = selected;
					const why = token.revoked ? ` It was revoked (${token.revoked.reason}); this makes it work again.` : ' Its current secret stops working at once.';
					if (!(await confirm(`Re-issue the API token ${token.name} with a new secret?${why}`))) return;
					const reissued = await run({
						task: () => reissueToken(ctx, actor, token.id, {expectedRevision: token.revision}),
						done: `Re-issued API token ${token.name}; its new secret is shown only now.`,
						command: orgctlCommand('tokens', 'reissue', token.id.slice(0, 8)),
					});
					if (reissued) revealSecret({name: token.name, secret: reissued.secret, capabilities: reissued.token.capabilities}, project);
				})();
				return true;
			case 'projects.delete':
				if (!selected) return true;
				void (async () => {
					if (selected.kind === 'project') {
						const {project} = selected;
						const also = project.tokens ? ` and its ${plural(project.tokens, 'API token')}` : '';
						if (!(await confirm(`Delete the project ${project.name}${also}?`))) return;
						const done = await run({task: () => deleteProject(ctx, actor, project.name, {expectedRevision: project.revision}), done: `Deleted project ${project.name}${also}.`, command: orgctlCommand('projects', 'delete', project.name)});
						if (done) setOverlay(undefined);
					} else {
						const {token} = selected;
						if (!(await confirm(`Delete the API token ${token.name}? It stops working at once.`))) return;
						const done = await run({task: () => deleteToken(ctx, actor, token.id, {expectedRevision: token.revision}), done: `Deleted API token ${token.name}.`, command: orgctlCommand('tokens', 'delete', token.id.slice(0, 8))});
						if (done) setOverlay(undefined);
					}
				})();
				return true;
			default:
				return false;
		}
	};

	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={overlay ? 'none' : 'flex'}>
				<List
					title="Projects & Tokens"
					items={rows}
					keyOf={keyOf}
					width={width}
					height={height}
					columns={COLUMNS}
					filterText={r => (r.kind === 'project' ? `${r.project.name} ${r.project.ownerName}` : `${r.token.name} ${r.token.ownerName} ${r.project.name} ${r.token.id}`)}
					contexts={['projects']}
					active={!overlay}
					emptyText="No projects yet: n creates one."
					onOpen={r => setOverlay({kind: 'open', id: keyOf(r)})}
					onCommand={command}
					refusal={(name, r) => projectRefusal(api, name, r)}
					targetOf={r => (r.kind === 'project' ? r.project.name : `${r.token.name} (${r.project.name})`)}
				/>
			</Box>
			{open ? <RowDetail row={open} width={width} height={height} onBack={() => setOverlay(undefined)} onCommand={name => command(name, open)} refusal={name => projectRefusal(api, name, open)} /> : null}
			{overlay?.kind === 'new-project' ? <NewProject width={width} onClose={() => setOverlay(undefined)} /> : null}
			{overlay?.kind === 'new-token' ? (
				<NewToken
					project={overlay.project}
					width={width}
					onClose={created => {
						setOverlay(undefined);
						if (created) revealSecret(created, overlay.project);
					}}
				/>
			) : null}
		</Box>
	);
}

/** Enter on a project or a token: every field, whole; t, d and r work on it here too. */
function RowDetail({row, width, height, onBack, onCommand, refusal}: {readonly row: Row; readonly width: number; readonly height: number; readonly onBack: () => void; readonly onCommand: (command: Command) => boolean; readonly refusal: (command: Command) => string | undefined}) {
	const fields: Array<readonly [string, string]> =
		row.kind === 'project'
			? [
					['Project', row.project.name],
					['Owner', row.project.ownerName],
					['API tokens', plural(row.project.tokens, 'token')],
					['Created', shortTime(row.project.created)],
					['ID', row.project.id],
				]
			: [
					['API token', row.token.name],
					['Project', row.project.name],
					['Owner', row.token.ownerName],
					['Capabilities', row.token.capabilities.join(', ')],
					...(row.token.revoked ? [['Revoked', `${shortTime(row.token.revoked.at)}: ${row.token.revoked.reason}; r re-issues it`] as const] : []),
					['Created', shortTime(row.token.created)],
					['Last used', shortTime(row.token.lastUsed)],
					['ID', row.token.id],
				];
	return (
		<RecordView
			title={row.kind === 'project' ? `Project ${row.project.name}` : `API token ${row.token.name}`}
			rows={fields}
			width={width}
			height={height}
			onBack={onBack}
			contexts={['projects']}
			onCommand={name => name !== undefined && name !== 'projects.new' && onCommand(name)}
			refusal={refusal}
		/>
	);
}

/** `n`: a project for yourself, or (admins) for another user; a refusal keeps the form open at the field at fault. */
function NewProject({width, onClose}: {readonly width: number; readonly onClose: () => void}) {
	const {ctx, actor, run} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	const [error, setError] = useState<FormError | undefined>();
	// Only who may create projects for others is asked for an owner (the policy's row, with someone else as the owner).
	const mayNameOwner = decide(actorFacts(actor), 'projects.create', {ownerId: ''}).allowed;
	return (
		<Form
			title="New project"
			fields={[{name: 'name', label: 'Name'}, ...(mayNameOwner ? [{name: 'owner', label: 'Owner', initial: actor.user.username, hint: 'you; type another username to make it theirs'}] : [])]}
			buttons={[{id: 'create', label: 'Create project'}]}
			width={width}
			busy={busy}
			error={error}
			onCancel={onClose}
			onPress={(_b, values) =>
				void (async () => {
					const name = values['name'] ?? '';
					const owner = (values['owner'] ?? '').trim() || actor.user.username;
					const mine = owner.toLowerCase() === actor.user.username.toLowerCase();
					setBusy('Creating the project…');
					const done = await run({
						task: () => createProject(ctx, actor, mine ? {name} : {name, owner}),
						failed: setError,
						done: `Created project ${name.trim()}${mine ? '' : `, owned by ${owner}`}.`,
						command: orgctlCommand('projects', 'create', name.trim(), ...(mine ? [] : ['--owner', owner])),
					});
					setBusy(undefined);
					if (done) onClose();
				})()
			}
		/>
	);
}

type CreatedToken = {readonly name: string; readonly secret: string; readonly capabilities: readonly string[]};

/** `t`: an API token for the selected project; its secret is shown once, full width, with `y` to copy it. */
function NewToken({project, width, onClose}: {readonly project: ProjectView; readonly width: number; readonly onClose: (created?: CreatedToken) => void}) {
	const {ctx, actor, run} = useConsole();
	const [busy, setBusy] = useState<string | undefined>();
	const [error, setError] = useState<FormError | undefined>();
	return (
		<Form
			title={`New API token for ${project.name}`}
			fields={[
				{name: 'name', label: 'Name'},
				{name: 'capability', label: 'Capability', kind: 'choice', options: TOKEN_CAPABILITIES, hint: '←/→ (several: the CLI)'},
			]}
			buttons={[{id: 'create', label: 'Create token'}]}
			width={width}
			busy={busy}
			error={error}
			onCancel={() => onClose()}
			onPress={(_b, values) =>
				void (async () => {
					const name = (values['name'] ?? '').trim();
					const capability = values['capability'] ?? TOKEN_CAPABILITIES[0];
					setBusy('Creating the token…');
					const created = await run({
						task: () => createToken(ctx, actor, {name, project: project.name, capabilities: [capability]}),
						failed: setError,
						done: `Created API token ${name}; its secret is shown only now.`,
						command: orgctlCommand('tokens', 'create', name, '--project', project.name, '--capability', capability),
					});
					setBusy(undefined);
					if (created) onClose({name, secret: created.secret, capabilities: created.token.capabilities});
				})()
			}
		/>
	);
}

export const projectsSection: Section = {id: 'projects', title: 'Projects & Tokens', short: 'Projects', order: 40, visibleWith: 'projects.create', Component: ProjectsAndTokens};
