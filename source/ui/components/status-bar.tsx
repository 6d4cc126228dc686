import {Box} from 'ink';
import {Text} from './text.js';
import {inert} from '../../core/inert.js';
import type {ActorFacts} from '../../core/policy.js';
import type {StatusMessage} from '../console-context.js';
import {useLiveKeys} from '../input-router.js';
import {bindingsFor, KEYMAP, policyRefusal, type KeyBinding} from '../keymap.js';
import {theme} from '../theme.js';

/**
 * The keys that work here, from the key map rows of the live contexts (top first), then help and
 * quit. Keys the signed-in user may not use are left out: those whose policy action their role
 * never allows, and those the live layers do not offer (`hidden`).
 */
export function keysLine(contexts: readonly string[], width: number, options: {hidden?: readonly string[]; facts?: ActorFacts | undefined} = {}): {keys: string; tail: string} {
	// Help and quit stay at the right end; where a form holds the keys, only Ctrl-C quits.
	const tailCommands = contexts.includes('global') ? ['app.help', 'app.quit'] : ['app.interrupt'];
	const tailRows = KEYMAP.filter(b => b.where === 'global' && tailCommands.includes(b.command));
	const tail = tailRows.map(b => `${b.label} ${shortText(b)}`).join('  ');
	const parts: string[] = [];
	let used = tail.length + 2;
	const seen = new Set<string>();
	for (const context of contexts) {
		for (const binding of bindingsFor([context], {statusOnly: true})) {
			if (tailRows.some(t => t.command === binding.command) || seen.has(binding.label)) continue;
			if (options.hidden?.includes(binding.command) || policyRefusal(binding, options.facts) !== undefined) continue;
			const part = `${binding.label} ${shortText(binding)}`;
			if (used + part.length + 2 > width) continue;
			seen.add(binding.label);
			parts.push(part);
			used += part.length + 2;
		}
	}
	return {keys: parts.join('  '), tail};
}

function shortText(binding: KeyBinding): string {
	return binding.short ?? binding.description.split(/[;:(]/)[0]!.trim();
}

/** What the message line holds: the outcome sentence first, then the command if it fits whole, else a pointer to `:`. */
export type MessageLine = {readonly text: string; readonly command?: string; readonly more?: string};

const MORE = '  (: shows it whole)';
const MORE_COMMAND = '  (: shows the command)';
const MORE_COMMAND_SHORT = '  (: command)';

/**
 * Lays out the last message in `width` columns. The sentence comes first and is cut only when it
 * alone is wider than the line; the equivalent command follows when it fits whole (a command cut
 * short is worse than none: it would run something else), else `:` is named, which shows both whole.
 * Both are measured inert, as they will be drawn: a message quoting `\e]52;…` takes the columns its
 * escapes do.
 */
export function messageLine(status: StatusMessage, width: number): MessageLine {
	const shown = inert(status.text);
	const text = [...shown];
	const command = status.command === undefined ? undefined : inert(status.command);
	if (command !== undefined && text.length + 4 + [...command].length <= width) return {text: shown, command};
	if (command === undefined && text.length <= width) return {text: shown};
	for (const more of command !== undefined ? [MORE_COMMAND, MORE_COMMAND_SHORT] : [MORE]) {
		if (text.length + more.length <= width) return {text: shown, more};
	}
	return {text: `${text.slice(0, Math.max(0, width - MORE.length - 1)).join('')}…`, more: MORE};
}

type Props = {
	readonly status: StatusMessage | undefined;
	readonly width: number;
	/** Who is signed in: keys their role never allows are not offered. */
	readonly facts?: ActorFacts | undefined;
};

/** Two lines: the last message with the equivalent `orgctl` command, then the keys that work here. */
export function StatusBar({status, width, facts}: Props) {
	const {contexts, hidden} = useLiveKeys();
	const {keys, tail} = keysLine(contexts, width - 1, {hidden, facts});
	const mark = status?.kind === 'error' ? '✗ ' : status?.kind === 'success' ? '✓ ' : '';
	const style = status?.kind === 'error' ? theme.error : status?.kind === 'success' ? theme.success : {};
	const line = status ? messageLine(status, width - mark.length - 1) : undefined;
	return (
		<Box flexDirection="column" width={width}>
			<Text wrap="truncate-end">
				{status && line ? (
					<>
						<Text {...style}>
							{mark}
							{line.text}
						</Text>
						{line.command !== undefined ? <Text {...theme.accent}>{`  $ ${line.command}`}</Text> : null}
						{line.more !== undefined ? <Text {...theme.muted}>{line.more}</Text> : null}
					</>
				) : (
					' '
				)}
			</Text>
			<Box width={width} justifyContent="space-between">
				<Text {...theme.muted} wrap="truncate-end">
					{keys}
				</Text>
				<Text {...theme.muted}>{tail}</Text>
			</Box>
		</Box>
	);
}
