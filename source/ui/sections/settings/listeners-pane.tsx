import type {FormError} from '../../form-state.js';
import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../../components/text.js';
import type {Listener} from '../../../core/model.js';
import {LISTENERS, removeListener, setListener} from '../../../core/server-settings.js';
import {orgctlCommand} from '../../../core/shell.js';
import type {Column} from '../../columns.js';
import {Form} from '../../components/form.js';
import {List} from '../../components/list.js';
import {OutcomeLines} from '../../components/outcome.js';
import {useConsole} from '../../console-context.js';
import useRecordedRun from '../../hooks/use-recorded-run.js';
import {PRIORITY, useKeys} from '../../input-router.js';
import {theme} from '../../theme.js';
import type {PaneProps} from './pane.js';

type Row = (typeof LISTENERS)[number] & {readonly listener: Listener | undefined};

const COLUMNS: readonly Column<Row>[] = [
	{title: 'LISTENER', min: 8, width: 13, priority: 9, cell: r => r.title},
	{title: 'ADDRESS', min: 9, width: 16, priority: 6, grow: 1, cell: r => r.listener?.address ?? 'not set'},
	{title: 'PORT', min: 5, width: 5, priority: 8, cell: r => (r.listener ? String(r.listener.port) : '')},
	{title: 'SSL', min: 3, width: 3, priority: 7, cell: r => (r.listener ? (r.listener.ssl ? 'on' : 'off') : '')},
];

/** Listeners: where crash reports and user requests (orgctl serve) come in. */
export function ListenersPane({view, width, height, onBack}: PaneProps) {
	const {ctx, actor, confirm} = useConsole();
	const [editing, setEditing] = useState<Row | undefined>(undefined);
	const [busy, setBusy] = useState<string | undefined>(undefined);
	const [error, setError] = useState<FormError | undefined>(undefined);
	const {outcome, act} = useRecordedRun();
	const rows: Row[] = LISTENERS.map(known => ({...known, listener: view.listeners.find(l => l.name === known.name)}));

	// Under the list: Esc that the list does not want (no filter to clear) goes back.
	useKeys(
		['detail'],
		command => {
			if (command !== 'view.back') return false;
			onBack();
			return true;
		},
		{priority: PRIORITY.section, active: !editing},
	);

	const save = async (row: Row, values: Readonly<Record<string, string>>) => {
		const input = {name: row.name, port: values['port'] ?? '', address: values['address'] ?? '', ssl: values['ssl'] === 'on'};
		setBusy(`Saving the ${row.title} listener…`);
		setError(undefined);
		const saved = await act({
			task: () => setListener(ctx, actor, input),
			done: l => `${row.title} listener on ${l.address}:${l.port}${l.ssl ? ' with SSL' : ''}.`,
			failed: setError,
			command: orgctlCommand('settings', 'listeners', 'set', row.name, '--port', input.port.trim(), ...(input.address.trim() ? ['--address', input.address.trim()] : []), '--ssl', input.ssl ? 'on' : 'off'),
		});
		setBusy(undefined);
		if (saved) {
			setEditing(undefined);
			setError(undefined);
		}
	};

	if (editing) {
		return (
			<Form
				title={`Listener for ${editing.title.toLowerCase()}: ${editing.purpose}`}
				fields={[
					{name: 'address', label: 'Address', initial: editing.listener?.address ?? '0.0.0.0'},
					{name: 'port', label: 'Port', initial: editing.listener ? String(editing.listener.port) : editing.name === 'requests' ? '8080' : ''},
					{name: 'ssl', label: 'SSL', kind: 'choice', options: ['off', 'on'], initial: editing.listener?.ssl ? 'on' : 'off', hint: '←/→'},
				]}
				buttons={[{id: 'save', label: 'Save'}]}
				onPress={(_button, values) => void save(editing, values)}
				onCancel={() => {
					setEditing(undefined);
					setError(undefined);
				}}
				busy={busy}
				error={error}
				width={width}
			/>
		);
	}
	return (
		<Box flexDirection="column" width={width} height={height}>
			<List
				title="Listeners (Esc: back)"
				items={rows}
				keyOf={r => r.name}
				width={width}
				height={Math.min(height, rows.length + 2)}
				columns={COLUMNS}
				onOpen={setEditing}
				contexts={['settings-listeners']}
				onCommand={(command, row) => {
					if (!row) return false;
					if (command === 'settings.listener') setEditing(row);
					else if (command === 'settings.removeListener') {
						if (!row.listener) return true;
						void (async () => {
							if (!(await confirm(`Remove the ${row.title} listener (${row.listener?.address ?? ''}:${row.listener?.port ?? ''})?`))) return;
							await act({task: () => removeListener(ctx, actor, row.name), done: `${row.title} listener removed.`, command: orgctlCommand('settings', 'listeners', 'remove', row.name)});
						})();
					} else return false;
					return true;
				}}
			/>
			<Box flexDirection="column" marginTop={1} width={width}>
				{rows.map(r => (
					<Text key={r.name} {...theme.muted} wrap="truncate-end">
						{r.title}: {r.purpose}
					</Text>
				))}
			</Box>
			<OutcomeLines outcome={outcome} width={width} />
		</Box>
	);
}
