import {useState} from 'react';
import {Box} from 'ink';
import {Text} from '../components/text.js';
import {writePrivateTempFile} from '../../adapters/private-file.js';
import {delivered, readInvitationList, sendInvitations, type SentRow} from '../../core/invitations.js';
import {describeMailStatus} from '../../core/outbox.js';
import {plural} from '../../core/words.js';
import {List} from '../components/list.js';
import {RecordView} from '../components/record-view.js';
import {useConsole, formError} from '../console-context.js';
import type {Column} from '../columns.js';
import {fit} from '../format.js';
import {orgctlCommand} from '../../core/shell.js';
import {cursorRowColumn, editLine, lineWindow, type Line} from '../line-edit.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

/** How often the count of invitations sent is redrawn while a list is sent. */
const PROGRESS_MS = 50;

type Props = {readonly width: number; readonly height: number; readonly onDone: () => void};

type Focus = 'text' | 'invite' | 'cancel';
type Row = {readonly line: number; readonly username: string; readonly email: string; readonly result: string; readonly ok: boolean; readonly link?: string};
type Phase = {readonly kind: 'edit'} | {readonly kind: 'sending'; readonly done: number; readonly total: number} | {readonly kind: 'result'; readonly rows: readonly Row[]; readonly summary: string; readonly file: string};

/** The list being typed: a multi-line value with its cursor, and the first line shown. */
type Editor = {readonly line: Line; readonly top: number};

/** A progress bar that fits `width`. */
function bar(done: number, total: number, width: number): string {
	const inner = Math.max(5, width - 24);
	const filled = total === 0 ? inner : Math.round((done / total) * inner);
	return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}] ${done}/${total}`;
}

function resultText(row: SentRow): string {
	if (!row.ok) return `refused: ${row.reason}`;
	return row.mail ? describeMailStatus(row.mail) : 'invited';
}

/** The rows of the editor to draw: `room` lines from `top`, the cursor's line scrolled so the cursor shows. */
export function editorLines(editor: Editor, room: number, width: number): Array<{readonly key: number; readonly before: string; readonly at?: string; readonly after: string}> {
	const {lines, row, column} = cursorRowColumn(editor.line);
	const shown: Array<{key: number; before: string; at?: string; after: string}> = [];
	for (let i = editor.top; i < Math.min(lines.length, editor.top + room); i++) {
		if (i === row) shown.push({key: i, ...lineWindow({value: lines[i]!, cursor: column}, width)});
		else shown.push({key: i, before: fit(lines[i]!, width).trimEnd(), after: ''});
	}
	return shown;
}

/** Keeps the cursor's line inside the window of `room` lines. */
function scrolled(editor: Editor, room: number): Editor {
	const {row} = cursorRowColumn(editor.line);
	let top = editor.top;
	if (row < top) top = row;
	if (row >= top + room) top = row - room + 1;
	return top === editor.top ? editor : {...editor, top};
}

/**
 * `b` in Manage Invitations: paste a list (one person a line, `username,email[,role[,method]]` or
 * just an e-mail) and edit it like any text (↑ ↓ between lines, the readline keys within one),
 * then invite everyone in one transaction; mail goes through one pool with a progress bar, and
 * each row gets its result. The list is kept in a private file (0600, in a fresh folder under the
 * temp directory) so the status line's `orgctl invites create --file` does the same again.
 */
export function BulkInvite({width, height, onDone}: Props) {
	const {ctx, actor, run, confirm} = useConsole();
	// Both are read by the next key of a burst (a pasted list arrives as one), before React re-renders.
	const [editor, setEditor, latestEditor] = useBurstState<Editor>({line: {value: '', cursor: 0}, top: 0});
	const [focus, moveFocus, latestFocus] = useBurstState<Focus>('text');
	const [phase, setPhase] = useState<Phase>({kind: 'edit'});
	const [error, setError] = useState<string | undefined>(undefined);
	const room = Math.max(3, height - 7);

	const invite = async () => {
		const text = latestEditor().line.value;
		let list;
		let file: string;
		try {
			list = await readInvitationList(text);
			file = writePrivateTempFile('invites.csv', text.endsWith('\n') ? text : `${text}\n`);
		} catch (caught) {
			setError(formError(caught).message);
			moveFocus('text');
			return;
		}
		setError(undefined);
		setPhase({kind: 'sending', done: 0, total: list.rows.length});
		const outcome = await run({
			task: async () => {
				// The count is drawn at most every PROGRESS_MS (and at the end): a frame per message would be hundreds a second, more than anyone reads.
				let shown = 0;
				const onProgress = (done: number, total: number) => {
					const at = performance.now();
					if (done < total && at - shown < PROGRESS_MS) return;
					shown = at;
					setPhase({kind: 'sending', done, total});
				};
				const sent = delivered(await sendInvitations(ctx, actor, list, {onProgress}));
				const table: Row[] = sent.rows.map(r => ({line: r.line, username: r.username, email: r.email, ok: r.ok, result: resultText(r), ...(r.ok ? {link: r.link} : {})}));
				return {table, summary: sent.summary};
			},
			busy: `Inviting ${plural(list.rows.length, 'person', 'people')}…`,
			// The path first among the details: the status line names the file the command reads.
			done: r => `${r.summary.replace(/\.$/, '')}; list: ${file}`,
			command: orgctlCommand('invites', 'create', '--file', file),
		});
		if (outcome) setPhase({kind: 'result', rows: outcome.table, summary: outcome.summary, file});
		else setPhase({kind: 'edit'});
	};

	const cancel = async () => {
		if (latestEditor().line.value.trim() !== '' && !(await confirm('Discard the list you typed?'))) return;
		onDone();
	};

	useKeys(
		['bulk'],
		(command, key) => {
			if (command === 'bulk.cancel') {
				void cancel();
				return true;
			}
			if (latestFocus() === 'text') {
				if (command === 'bulk.buttons') {
					moveFocus('invite');
					return true;
				}
				const current = latestEditor();
				const line = editLine(current.line, key, {multiline: true});
				if (line === undefined) return false;
				setEditor(scrolled({...current, line}, room));
				return true;
			}
			if (key.name === 'tab' || key.name === 'right' || key.name === 'left' || key.name === 'shift-tab') {
				const back = key.name === 'left' || key.name === 'shift-tab';
				moveFocus(latestFocus() === 'invite' ? (back ? 'text' : 'cancel') : back ? 'invite' : 'text');
				return true;
			}
			if (key.name === 'enter') {
				if (latestFocus() === 'invite') void invite();
				else void cancel();
				return true;
			}
			return false;
		},
		{priority: PRIORITY.text, kind: 'text', active: phase.kind === 'edit'},
	);

	if (phase.kind === 'result') {
		return <ResultList rows={phase.rows} summary={phase.summary} file={phase.file} width={width} height={height} onDone={onDone} />;
	}

	const {lines} = cursorRowColumn(editor.line);
	const textWidth = Math.max(10, width - 2);
	const shown = editorLines(editor, room, textWidth);
	const people = lines.filter(l => l.trim() !== '' && !l.trim().startsWith('#')).length;
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text {...theme.title}>Invite many at once</Text>
			<Text {...theme.muted} wrap="truncate-end">
				One a line: username,email[,role[,method]] or an e-mail
			</Text>
			<Box flexDirection="column" height={room} borderStyle="single" borderTop={false} borderRight={false} borderBottom={false} {...(focus === 'text' && !theme.noColor ? {borderColor: 'cyan'} : {})}>
				{shown.map(line => (
					<Text key={line.key} wrap="truncate-end">
						{line.before}
						{line.at !== undefined ? focus === 'text' ? <Text inverse>{line.at}</Text> : line.at : null}
						{line.after}
					</Text>
				))}
			</Box>
			<Text {...theme.muted}>
				{plural(people, 'line')} · {lines.length > room ? `lines ${editor.top + 1}–${Math.min(lines.length, editor.top + room)} of ${lines.length} · ` : ''}↑ ↓ move · Tab: the buttons
			</Text>
			{phase.kind === 'sending' ? (
				<Text>Mailing {bar(phase.done, phase.total, width)}</Text>
			) : (
				<Box>
					<Box marginRight={2}>
						<Text {...(focus === 'invite' ? theme.selected : theme.accent)}>{focus === 'invite' ? theme.pointer : ' '}[ Invite all ]</Text>
					</Box>
					<Text {...(focus === 'cancel' ? theme.selected : theme.accent)}>{focus === 'cancel' ? theme.pointer : ' '}[ Cancel ]</Text>
				</Box>
			)}
			{error ? (
				<Text {...theme.error} wrap="wrap">
					✗ {error}
				</Text>
			) : null}
		</Box>
	);
}

/** What became of each line of the list: the result (mail status or why refused) takes the room. */
const RESULT_COLUMNS: readonly Column<Row>[] = [
	{title: 'LINE', min: 4, width: 5, priority: 8, cell: r => String(r.line)},
	{title: 'USERNAME', min: 8, width: 16, priority: 7, cell: r => r.username},
	{title: 'RESULT', min: 10, width: 30, priority: 9, grow: 1, cell: r => r.result},
];

type ResultProps = {readonly rows: readonly Row[]; readonly summary: string; readonly file: string; readonly width: number; readonly height: number; readonly onDone: () => void};

function ResultList({rows, summary, file, width, height, onDone}: ResultProps) {
	const [open, setOpen] = useState<Row | undefined>(undefined);
	useKeys(
		['detail'],
		command => {
			if (command !== 'view.back') return false;
			onDone();
			return true;
		},
		{priority: PRIORITY.section, active: open === undefined},
	);
	if (open) {
		const fields: Array<readonly [string, string]> = [
			['Line', String(open.line)],
			['Username', open.username],
			['E-mail', open.email],
			['Result', open.result],
			...(open.link ? ([['Link', open.link]] as const) : []),
		];
		return <RecordView title={`Line ${open.line}: ${open.username}`} rows={fields} width={width} height={height} onBack={() => setOpen(undefined)} />;
	}
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text {...theme.muted} wrap="truncate-start">
				{orgctlCommand('invites', 'create', '--file', file)}
			</Text>
			<List
				title={summary}
				items={rows}
				keyOf={r => String(r.line)}
				width={width}
				height={height - 1}
				columns={RESULT_COLUMNS}
				filterText={r => `${r.username} ${r.email} ${r.result}`}
				onOpen={setOpen}
			/>
		</Box>
	);
}
