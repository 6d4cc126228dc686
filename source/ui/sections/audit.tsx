import {useMemo} from 'react';
import {listAuditIn} from '../../core/audit.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import {columns, shortTime} from '../format.js';
import type {Section, SectionProps} from './section.js';

/** The audit log, newest first: windowed, `/` filters on actor, action, target, result and reason. */
function Audit({width, height}: SectionProps) {
	const {actor, db} = useConsole();
	const events = useMemo(() => listAuditIn(db, actor), [db, actor]);
	// 80 columns leave about 54 for a section: month-day time, and the target gets what is left.
	const rest = Math.max(8, width - 1 - 11 - 8 - 16 - 7 - 4);
	return (
		<List
			title="Audit"
			items={events}
			keyOf={e => e.id}
			width={width}
			height={height}
			header={columns([
				['TIME', 11],
				['ACTOR', 8],
				['ACTION', 16],
				['RESULT', 7],
				['TARGET / REASON', rest],
			])}
			renderRow={e =>
				columns([
					[shortTime(e.time).slice(5), 11],
					[e.actor, 8],
					[e.action, 16],
					[e.result, 7],
					[e.reason ? `${e.target}: ${e.reason}` : e.target, rest],
				])
			}
			filterText={e => `${e.time} ${e.actor} ${e.action} ${e.target} ${e.result} ${e.reason ?? ''}`}
			contexts={['audit']}
			emptyText="Nothing audited yet."
		/>
	);
}

export const auditSection: Section = {id: 'audit', title: 'Audit', order: 70, visibleWith: 'audit.view', Component: Audit};
