import type {FormError} from '../form-state.js';
import {useMemo, useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {orgctlCommand} from '../../core/shell.js';
import {createTenant, deleteTenant, describeTenantContents, listTenantsIn, type TenantView} from '../../core/tenants.js';
import type {Column} from '../columns.js';
import {Fields} from '../components/fields.js';
import {Form} from '../components/form.js';
import {List} from '../components/list.js';
import {OutcomeLines} from '../components/outcome.js';
import {useConsole} from '../console-context.js';
import {shortTime} from '../format.js';
import useRecordedRun from '../hooks/use-recorded-run.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import type {Section, SectionProps} from './section.js';

function columns(here: string): readonly Column<TenantView>[] {
	return [
		{title: '', min: 1, width: 1, priority: 10, cell: t => (t.id === here ? '●' : '')},
		{title: 'TENANT', min: 8, width: 20, priority: 9, grow: 1, cell: t => t.name},
		{title: 'USERS', min: 5, width: 5, priority: 8, cell: t => String(t.users)},
		{title: 'INVITES', min: 7, width: 7, priority: 7, cell: t => String(t.invitations)},
		{title: 'PROJECTS', min: 8, width: 8, priority: 6, cell: t => String(t.projects)},
		{title: 'CREATED', min: 10, width: 10, priority: 2, cell: t => t.created.slice(0, 10)},
	];
}

/** Tenants: every tenant of the instance with what it holds; create, delete (type the name), act in one. */
function Tenants({width, height}: SectionProps) {
	const {ctx, actor, db, confirmTyped, switchTenant} = useConsole();
	const tenants = useMemo(() => listTenantsIn(db, actor), [db, actor]);
	const table = useMemo(() => columns(actor.tenant.id), [actor.tenant.id]);
	const [mode, setMode] = useState<{kind: 'list'} | {kind: 'new'} | {kind: 'open'; id: string}>({kind: 'list'});
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const {outcome, act} = useRecordedRun();
	const opened = mode.kind === 'open' ? tenants.find(t => t.id === mode.id) : undefined;
	const back = () => {
		setMode({kind: 'list'});
		setError(undefined);
	};

	const create = async (name: string) => {
		setBusy(`Creating ${name.trim()}…`);
		setError(undefined);
		const tenant = await act({
			task: () => createTenant(ctx, actor, name),
			done: t => `Created tenant ${t.name}; press s on it to act there.`,
			failed: setError,
			command: orgctlCommand('tenants', 'create', name.trim()),
		});
		setBusy(undefined);
		if (tenant) back();
	};

	const remove = async (tenant: TenantView) => {
		const what = describeTenantContents(tenant);
		const sure = await confirmTyped(`Delete tenant ${tenant.name} and everything in it: ${what}? This cannot be undone.`, tenant.name);
		if (!sure) return;
		await act({
			task: () => deleteTenant(ctx, actor, tenant.name, tenant.name),
			busy: `Deleting ${tenant.name}…`,
			done: contents => `Deleted tenant ${tenant.name} and with it ${describeTenantContents(contents)}.`,
			command: orgctlCommand('tenants', 'delete', tenant.name, '--confirm', tenant.name),
		});
		back();
	};

	const command = (name: string, tenant: TenantView | undefined): boolean => {
		if (name === 'tenants.new') setMode({kind: 'new'});
		else if (name === 'tenants.switch' && tenant) void switchTenant(tenant.name);
		else if (name === 'tenants.delete' && tenant) void remove(tenant);
		else return false;
		return true;
	};

	if (mode.kind === 'new') {
		return (
			<Box flexDirection="column" width={width}>
				<Form
					title="Create a tenant"
					fields={[{name: 'name', label: 'Name'}]}
					buttons={[{id: 'create', label: 'Create tenant'}]}
					onPress={(_b, values) => void create(values['name'] ?? '')}
					onCancel={back}
					busy={busy}
					error={error}
					width={width}
				/>
				<Text {...theme.muted} wrap="wrap">
					A DNS label: lower-case letters, digits and -, such as acme or eu-west.
				</Text>
			</Box>
		);
	}
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={opened ? 'none' : 'flex'} flexDirection="column">
				<List
					title="Tenants"
					items={tenants}
					keyOf={t => t.id}
					width={width}
					height={Math.max(3, height - (outcome ? 4 : 0))}
					columns={table}
					filterText={t => t.name}
					onOpen={t => setMode({kind: 'open', id: t.id})}
					onCommand={command}
					contexts={['tenants']}
					active={!opened}
				/>
				<OutcomeLines outcome={outcome} width={width} />
			</Box>
			{opened ? <TenantDetail tenant={opened} here={opened.id === actor.tenant.id} width={width} onBack={back} onCommand={name => command(name, opened)} /> : null}
		</Box>
	);
}

function TenantDetail({tenant, here, width, onBack, onCommand}: {readonly tenant: TenantView; readonly here: boolean; readonly width: number; readonly onBack: () => void; readonly onCommand: (name: string) => boolean}) {
	useKeys(
		['detail', 'tenants'],
		command => {
			if (command === 'view.back') {
				onBack();
				return true;
			}
			return command !== undefined && onCommand(command);
		},
		{priority: PRIORITY.detail},
	);
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading}>
				{tenant.name} <Text {...theme.muted}>(Esc: back)</Text>
			</Text>
			<Text> </Text>
			<Fields
				rows={[
					['Created', shortTime(tenant.created)],
					['Users', String(tenant.users)],
					['Invitations', String(tenant.invitations)],
					['Sign-up domains', String(tenant.signupDomains)],
					['Pending sign-ups', String(tenant.pendingSignups)],
					['Projects', String(tenant.projects)],
					['API tokens', String(tenant.tokens)],
				]}
				width={width}
			/>
			<Text> </Text>
			<Text {...theme.muted}>{here ? 'The console acts in this tenant now.' : 'Press s to act in this tenant (the header shows where you are).'}</Text>
		</Box>
	);
}

export const tenantsSection: Section = {
	id: 'tenants',
	title: 'Tenants',
	order: 60,
	visibleWith: 'tenants.manage',
	contexts: ['superuser', 'tenant-picker'],
	Component: Tenants,
};
