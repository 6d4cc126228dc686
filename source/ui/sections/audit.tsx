import {useMemo} from 'react';
import {listAuditIn} from '../../core/audit.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import type {AuditEvent} from '../../core/model.js';
import type {Column} from '../columns.js';
import {shortTime} from '../format.js';
import type {Section, SectionProps} from './section.js';

/** The audit table: month-day time, and the target (with the reason) gets what is left. */
const COLUMNS: readonly Column<AuditEvent>[] = [
	{title: 'TIME', min: 11, width: 11, priority: 5, cell: e => shortTime(e.time).slice(5)},
	{title: 'ACTOR', min: 8, width: 12, priority: 6, cell: e => e.actor},
	{title: 'ACTION', min: 14, width: 22, priority: 8, cell: e => e.action},
	{title: 'RESULT', min: 7, width: 7, priority: 9, cell: e => e.result},
	{title: 'TARGET / REASON', min: 8, width: 30, priority: 7, grow: 1, cell: e => (e.reason ? `${e.target}: ${e.reason}` : e.target)},
];

/** The audit log, newest first: windowed, `/` filters on actor, action, target, result and reason. */
function Audit({width, height}: SectionProps) {
	const {actor, db} = useConsole();
	const all = db.audit;
	const events = useMemo(() => listAuditIn({audit: all}, actor), [all, actor]);
	return (
		<List
			title="Audit"
			items={events}
			keyOf={e => e.id}
			width={width}
			height={height}
			columns={COLUMNS}
			filterText={e => `${e.time} ${e.actor} ${e.action} ${e.target} ${e.result} ${e.reason ?? ''}`}
			contexts={['audit']}
			emptyText="Nothing audited yet."
		/>
	);
}

export const auditSection: Section = {id: 'audit', title: 'Audit', order: 70, visibleWith: 'audit.view', Component: Audit};
