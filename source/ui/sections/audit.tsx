import {useMemo, useState} from 'react';
import {Box} from 'ink';
import {listAuditIn} from '../../core/audit.js';
import {List} from '../components/list.js';
import {RecordView} from '../components/record-view.js';
import {useConsole} from '../console-context.js';
import type {AuditEvent} from '../../core/model.js';
import type {Column} from '../columns.js';
import {shortTime} from '../format.js';
import type {Section, SectionProps} from './section.js';

/** The audit table: month-day time, and the target (with the reason) gets what is left; Enter shows an event whole. */
const COLUMNS: readonly Column<AuditEvent>[] = [
	{title: 'TIME', min: 11, width: 11, priority: 7, cell: e => shortTime(e.time).slice(5)},
	{title: 'ACTOR', min: 8, width: 10, priority: 8, cell: e => e.actor},
	{title: 'ACTION', min: 12, width: 18, priority: 6, cell: e => e.action},
	{title: 'RESULT', min: 7, width: 7, priority: 9, cell: e => e.result},
	{title: 'TARGET / REASON', min: 10, width: 20, priority: 5, grow: 1, cell: e => (e.reason ? `${e.target}: ${e.reason}` : e.target)},
];

/** The audit log, newest first: windowed, `/` filters on actor, action, target, result and reason. */
function Audit({width, height}: SectionProps) {
	const {actor, db} = useConsole();
	const all = db.audit;
	const events = useMemo(() => listAuditIn({audit: all}, actor), [all, actor]);
	const [openId, setOpenId] = useState<string | undefined>(undefined);
	const open = openId ? events.find(e => e.id === openId) : undefined;
	const allTenants = db.tenants;
	const tenants = useMemo(() => new Map(allTenants.map(t => [t.id, t.name])), [allTenants]);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Box display={open ? 'none' : 'flex'}>
				<List
					title="Audit"
					items={events}
					keyOf={e => e.id}
					width={width}
					height={height}
					columns={COLUMNS}
					filterText={e => `${e.time} ${e.actor} ${e.action} ${e.target} ${e.result} ${e.reason ?? ''}`}
					contexts={['audit']}
					onOpen={e => setOpenId(e.id)}
					active={!open}
					emptyText="Nothing audited yet."
				/>
			</Box>
			{open ? (
				<RecordView
					title={`${open.action} · ${open.result}`}
					rows={[
						['Time', `${shortTime(open.time)} UTC`],
						['Actor', open.actor],
						['Tenant', open.tenantId === null ? '(instance)' : (tenants.get(open.tenantId) ?? open.tenantId)],
						['Action', open.action],
						['Target', open.target],
						['Result', open.result],
						...(open.reason ? ([['Reason', open.reason]] as const) : []),
					]}
					width={width}
					height={height}
					onBack={() => setOpenId(undefined)}
				/>
			) : null}
		</Box>
	);
}

export const auditSection: Section = {id: 'audit', title: 'Audit', order: 70, visibleWith: 'audit.view', Component: Audit};
