import {useMemo, useState} from 'react';
import {Box, Text} from 'ink';
import {createProject, deleteProject, listProjectsIn, type ProjectView} from '../../core/projects.js';
import {createToken, deleteToken, listTokensIn, reissueToken, TOKEN_CAPABILITIES, type TokenView} from '../../core/tokens.js';
import {List} from '../components/list.js';
import {Form} from '../components/form.js';
import {useConsole} from '../console-context.js';
import type {Column} from '../columns.js';
import {fit} from '../format.js';
import {plural} from '../../core/words.js';
import {orgctlCommand} from '../../core/shell.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {Section, SectionProps} from './section.js';

/** One line of the section: a project, or one of its tokens under it. */
type Row = {readonly kind: 'project'; readonly project: ProjectView} | {readonly kind: 'token'; readonly token: TokenView; readonly project: ProjectView};

/** Projects and their tokens in one table: a token's row names its capabilities where a project's counts its tokens. */
const COLUMNS: readonly Column<Row>[] = [
	{title: 'NAME', min: 12, width: 30, priority: 9, grow: 1, cell: r => (r.kind === 'project' ? r.project.name : `  ⚿ ${r.token.name}`)},
	{title: 'OWNER', min: 10, width: 14, priority: 8, cell: r => (r.kind === 'project' ? r.project.ownerName : r.token.ownerName)},
	{title: 'TOKENS / CAPABILITIES', min: 21, width: 24, priority: 7, cell: r => (r.kind === 'project' ? plural(r.project.tokens, 'token') : `${r.token.revoked ? 'revoked: ' : ''}${r.token.capabilities.join(',')}`)},
];

type Overlay = {readonly kind: 'new-project'} | {readonly kind: 'new-token'; readonly project: ProjectView} | {readonly kind: 'secret'; readonly name: string; readonly secret: string};

function ProjectsAndTokens({width, height}: SectionProps) {
	const {ctx, actor, db, run, confirm} = useConsole();
	const [overlay, setOverlay] = useState<Overlay | undefined>(undefined);
	const rows = useMemo(() => {
		const tokens = listTokensIn(db, actor);
		return listProjectsIn(db, actor).flatMap((project): Row[] => [{kind: 'project', project}, ...tokens.filter(t => t.projectId === project.id).map(token => ({kind: 'token' as const, token, project}))]);
	}, [db, actor]);

	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={overlay ? 'none' : 'flex'}>
				<List
					title="Projects & Tokens"
					items={rows}
					keyOf={r => (r.kind === 'project' ? r.project.id : r.token.id)}
					width={width}
					height={height}
					columns={COLUMNS}
					filterText={r => (r.kind === 'project' ? `${r.project.name} ${r.project.ownerName}` : `${r.token.name} ${r.token.ownerName} ${r.project.name} ${r.token.id}`)}
					contexts={['projects']}
					active={!overlay}
					emptyText="No projects yet: n creates one."
					onCommand={(command, selected) => {
						switch (command) {
							case 'projects.new':
								setOverlay({kind: 'new-project'});
								return true;
							case 'projects.token':
								if (selected) setOverlay({kind: 'new-token', project: selected.project});
								return true;
							case 'projects.reissue':
								if (selected?.kind !== 'token') return true;
								void (async () => {
									const {token} = selected;
									const why = token.revoked ? ` It was revoked (${token.revoked.reason}); this makes it work again.` : ' Its current secret stops working at once.';
									if (!(await confirm(`Re-issue the API token ${token.name} with a new secret?${why}`))) return;
									const reissued = await run({
										task: () => reissueToken(ctx, actor, token.id, {expectedRevision: token.revision}),
										done: `Re-issued API token ${token.name}; its new secret is shown only now.`,
										command: orgctlCommand('tokens', 'reissue', token.id.slice(0, 8)),
									});
									if (reissued) setOverlay({kind: 'secret', name: token.name, secret: reissued.secret});
								})();
								return true;
							case 'projects.delete':
								if (!selected) return true;
								void (async () => {
									if (selected.kind === 'project') {
										const {project} = selected;
										const also = project.tokens ? ` and its ${plural(project.tokens, 'API token')}` : '';
										if (!(await confirm(`Delete the project ${project.name}${also}?`))) return;
										await run({task: () => deleteProject(ctx, actor, project.name, {expectedRevision: project.revision}), done: `Deleted project ${project.name}${also}.`, command: orgctlCommand('projects', 'delete', project.name)});
									} else {
										const {token} = selected;
										if (!(await confirm(`Delete the API token ${token.name}? It stops working at once.`))) return;
										await run({task: () => deleteToken(ctx, actor, token.id, {expectedRevision: token.revision}), done: `Deleted API token ${token.name}.`, command: orgctlCommand('tokens', 'delete', token.id.slice(0, 8))});
									}
								})();
								return true;
							default:
								return false;
						}
					}}
				/>
			</Box>
			{overlay?.kind === 'new-project' ? (
				<Form
					title="New project"
					fields={[
						{name: 'name', label: 'Name'},
						{name: 'owner', label: 'Owner', initial: actor.user.username, hint: 'admins may name another user'},
					]}
					buttons={[{id: 'create', label: 'Create project'}]}
					width={width}
					onCancel={() => setOverlay(undefined)}
					onPress={(_b, values) =>
						void (async () => {
							const name = values['name'] ?? '';
							const owner = (values['owner'] ?? '').trim() || actor.user.username;
							const mine = owner === actor.user.username;
							await run({
								task: () => createProject(ctx, actor, mine ? {name} : {name, owner}),
								done: `Created project ${name.trim()}.`,
								command: orgctlCommand('projects', 'create', name.trim(), ...(mine ? [] : ['--owner', owner])),
							});
							setOverlay(undefined);
						})()
					}
				/>
			) : null}
			{overlay?.kind === 'new-token' ? (
				<Form
					title={`New API token for ${overlay.project.name}`}
					fields={[
						{name: 'name', label: 'Name'},
						{name: 'capability', label: 'Capability', kind: 'choice', options: TOKEN_CAPABILITIES, hint: '←/→ (more with the CLI)'},
					]}
					buttons={[{id: 'create', label: 'Create token'}]}
					width={width}
					onCancel={() => setOverlay(undefined)}
					onPress={(_b, values) =>
						void (async () => {
							const name = (values['name'] ?? '').trim();
							const capability = values['capability'] ?? TOKEN_CAPABILITIES[0];
							const project = overlay.project;
							const created = await run({
								task: () => createToken(ctx, actor, {name, project: project.name, capabilities: [capability]}),
								done: `Created API token ${name}; its secret is shown only now.`,
								command: orgctlCommand('tokens', 'create', name, '--project', project.name, '--capability', capability),
							});
							setOverlay(created ? {kind: 'secret', name, secret: created.secret} : undefined);
						})()
					}
				/>
			) : null}
			{overlay?.kind === 'secret' ? <SecretOnce name={overlay.name} secret={overlay.secret} width={width} onClose={() => setOverlay(undefined)} /> : null}
		</Box>
	);
}

/** The token's secret, shown this once: the store keeps only its hash. */
function SecretOnce({name, secret, width, onClose}: {readonly name: string; readonly secret: string; readonly width: number; readonly onClose: () => void}) {
	useKeys(
		['detail'],
		command => {
			if (command === 'view.back') onClose();
			return true;
		},
		{priority: PRIORITY.detail, kind: 'modal'},
	);
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading}>{fit(`API token ${name}`, width)}</Text>
			<Text> </Text>
			<Text {...theme.warning} wrap="wrap">
				Copy the secret now: it is shown only this once and cannot be shown again.
			</Text>
			<Text> </Text>
			<Text wrap="wrap">{secret}</Text>
			<Text> </Text>
			<Text {...theme.muted} wrap="wrap">
				Use it as ORGCTL_TOKEN, or with the server's API. Esc: back.
			</Text>
		</Box>
	);
}

export const projectsSection: Section = {id: 'projects', title: 'Projects & Tokens', order: 40, visibleWith: 'projects.create', Component: ProjectsAndTokens};
