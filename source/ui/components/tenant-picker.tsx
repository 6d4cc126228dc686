import {useMemo} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import type {Actor} from '../../core/context.js';
import type {Database} from '../../core/model.js';
import {listTenantsIn, type TenantView} from '../../core/tenants.js';
import type {Column} from '../columns.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import {List} from './list.js';

type Props = {
	readonly db: Database;
	readonly actor: Actor;
	readonly width: number;
	readonly height: number;
	readonly onPick: (name: string) => void;
	readonly onCancel: () => void;
};

/** The header's tenant switcher (T): every tenant, the current one marked; Enter acts there, Esc goes back. */
export function TenantPicker({db, actor, width, height, onPick, onCancel}: Props) {
	const tenants = useMemo(() => listTenantsIn(db, actor), [db, actor]);
	const columns = useMemo<readonly Column<TenantView>[]>(
		() => [
			{title: '', min: 1, width: 1, priority: 10, cell: t => (t.id === actor.tenant.id ? '●' : '')},
			{title: 'TENANT', min: 8, width: 24, priority: 9, grow: 1, cell: t => t.name},
			{title: 'USERS', min: 5, width: 5, priority: 8, cell: t => String(t.users)},
			{title: 'INVITES', min: 7, width: 7, priority: 7, cell: t => String(t.invitations)},
		],
		[actor.tenant.id],
	);
	// Below the list, so it sees j/k, / and Enter first; modal, so q and the section keys wait.
	useKeys(
		['tenant-picker'],
		command => {
			if (command === 'tenantPicker.cancel') onCancel();
			return true;
		},
		{priority: PRIORITY.section, kind: 'modal'},
	);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text {...theme.muted} wrap="truncate-end">
				Act in which tenant? (now {actor.tenant.name}; Enter switches, Esc goes back)
			</Text>
			<List title="Switch tenant" items={tenants} keyOf={t => t.id} width={width} height={height - 1} columns={columns} filterText={t => t.name} onOpen={t => onPick(t.name)} contexts={['tenant-picker']} />
		</Box>
	);
}
