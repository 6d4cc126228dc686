import {useState} from 'react';
import {Box, Text} from 'ink';
import {isOrgError} from '../../core/errors.js';
import {delivered, parseInvitationList, sendInvitations, type SentRow} from '../../core/invitations.js';
import {describeMailStatus} from '../../core/outbox.js';
import {List} from '../components/list.js';
import {useConsole} from '../console-context.js';
import type {Column} from '../columns.js';
import {orgctlCommand} from '../../core/shell.js';
import {editText} from '../key-press.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';
import {plural} from '../../core/words.js';

type Props = {readonly width: number; readonly height: number; readonly onDone: () => void};

type Focus = 'text' | 'invite' | 'cancel';
type Row = {readonly line: number; readonly username: string; readonly email: string; readonly result: string; readonly ok: boolean};
type Phase = {readonly kind: 'edit'} | {readonly kind: 'sending'; readonly done: number; readonly total: number} | {readonly kind: 'result'; readonly rows: readonly Row[]; readonly summary: string};

/** A progress bar that fits `width`. */
function bar(done: number, total: number, width: number): string {
	const inner = Math.max(5, width - 14);
	const filled = total === 0 ? inner : Math.round((done / total) * inner);
	return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}] ${done}/${total}`;
}

function resultText(row: SentRow): string {
	if (!row.ok) return `refused: ${row.reason}`;
	return row.mail ? describeMailStatus(row.mail) : 'invited';
}

/**
 * `b` in Manage Invitations: paste a list (one person a line, `username,email[,role[,method]]` or
 * just an e-mail), then invite everyone in one transaction; mail goes through one pool with a
 * progress bar, and each row gets its result.
 */
export function BulkInvite({width, height, onDone}: Props) {
	const {ctx, actor, run} = useConsole();
	// Both are read by the next key of a burst (a pasted list arrives as one), before React re-renders.
	const [text, setText, latestText] = useBurstState('');
	const [focus, moveFocus, latestFocus] = useBurstState<Focus>('text');
	const [phase, setPhase] = useState<Phase>({kind: 'edit'});
	const [error, setError] = useState<string | undefined>(undefined);

	const invite = async () => {
		let list;
		try {
			list = parseInvitationList(latestText());
		} catch (caught) {
			setError(isOrgError(caught) ? caught.message : String(caught));
			moveFocus('text');
			return;
		}
		setError(undefined);
		setPhase({kind: 'sending', done: 0, total: list.rows.length});
		const outcome = await run({
			task: async () => {
				const sent = delivered(await sendInvitations(ctx, actor, list, {onProgress: (done, total) => setPhase({kind: 'sending', done, total})}));
				const table: Row[] = sent.rows.map(r => ({line: r.line, username: r.username, email: r.email, ok: r.ok, result: resultText(r)}));
				return {table, summary: sent.summary};
			},
			busy: `Inviting ${plural(list.rows.length, 'person', 'people')}…`,
			done: r => r.summary,
			command: orgctlCommand('invites', 'create', '--file', 'invites.csv'),
		});
		if (outcome) setPhase({kind: 'result', rows: outcome.table, summary: outcome.summary});
		else setPhase({kind: 'edit'});
	};

	useKeys(
		['bulk'],
		(command, key) => {
			if (command === 'bulk.cancel') {
				onDone();
				return true;
			}
			if (latestFocus() === 'text') {
				if (command === 'bulk.buttons') {
					moveFocus('invite');
					return true;
				}
				const next = command === 'bulk.newline' ? `${latestText()}\n` : editText(latestText(), key);
				if (next === undefined) return false;
				setText(next);
				return true;
			}
			if (key.name === 'tab' || key.name === 'right' || key.name === 'left') {
				moveFocus(latestFocus() === 'invite' ? (key.name === 'left' ? 'text' : 'cancel') : key.name === 'left' ? 'invite' : 'text');
				return true;
			}
			if (key.name === 'enter') {
				if (latestFocus() === 'invite') void invite();
				else onDone();
				return true;
			}
			return false;
		},
		{priority: PRIORITY.text, kind: 'text', active: phase.kind === 'edit'},
	);

	if (phase.kind === 'result') {
		return (
			<ResultList rows={phase.rows} summary={phase.summary} width={width} height={height} onDone={onDone} />
		);
	}

	const lines = text.split('\n');
	const room = Math.max(3, height - 7);
	const visible = lines.slice(-room);
	return (
		<Box flexDirection="column" width={width} height={height}>
			<Text {...theme.title}>Invite many at once</Text>
			<Text {...theme.muted} wrap="truncate-end">
				One a line: username,email[,role[,method]] or e-mail
			</Text>
			<Box flexDirection="column" height={room} borderStyle="single" borderTop={false} borderRight={false} borderBottom={false} {...(focus === 'text' && !theme.noColor ? {borderColor: 'cyan'} : {})}>
				{visible.map((line, index) => (
					<Text key={index} wrap="truncate-start">
						{line}
						{focus === 'text' && index === visible.length - 1 ? <Text inverse> </Text> : null}
					</Text>
				))}
			</Box>
			<Text {...theme.muted}>{lines.filter(l => l.trim() !== '').length} lines</Text>
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
	{title: 'LINE', min: 5, width: 5, priority: 8, cell: r => String(r.line)},
	{title: 'USERNAME', min: 8, width: 16, priority: 7, cell: r => r.username},
	{title: 'RESULT', min: 10, width: 30, priority: 9, grow: 1, cell: r => r.result},
];

function ResultList({rows, summary, width, height, onDone}: {readonly rows: readonly Row[]; readonly summary: string; readonly width: number; readonly height: number; readonly onDone: () => void}) {
	useKeys(
		['detail'],
		command => {
			if (command !== 'view.back') return false;
			onDone();
			return true;
		},
		{priority: PRIORITY.section},
	);
	return (
		<List
			title={summary}
			items={rows}
			keyOf={r => String(r.line)}
			width={width}
			height={height}
			columns={RESULT_COLUMNS}
			filterText={r => `${r.username} ${r.email} ${r.result}`}
		/>
	);
}
