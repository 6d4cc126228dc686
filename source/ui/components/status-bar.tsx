import {Box} from 'ink';
import {Text} from './text.js';
import {inert} from '../../core/inert.js';
import type {StatusMessage} from '../console-context.js';
import {useLiveContexts} from '../input-router.js';
import {bindingsFor, KEYMAP, type KeyBinding} from '../keymap.js';
import {theme} from '../theme.js';

/** The keys that work here, from the key map rows of the live contexts (top first), then help and quit. */
export function keysLine(contexts: readonly string[], width: number): {keys: string; tail: string} {
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

/**
 * The message, cut so that the equivalent command (the part to copy) always fits whole. Both are
 * measured inert, as they will be drawn: a message quoting `\e]52;…` takes the columns its escapes do.
 */
function messageText(status: StatusMessage, width: number): string {
	const text = inert(status.text);
	if (!status.command) return text;
	const room = width - inert(status.command).length - 4;
	if (room >= text.length) return text;
	return room >= 12 ? text.slice(0, room - 1) + '…' : '';
}

/** Two lines: the last message with the equivalent `orgctl` command, then the keys that work here. */
export function StatusBar({status, width}: {readonly status: StatusMessage | undefined; readonly width: number}) {
	const contexts = useLiveContexts();
	const {keys, tail} = keysLine(contexts, width - 1);
	const mark = status?.kind === 'error' ? '✗ ' : status?.kind === 'success' ? '✓ ' : '';
	const style = status?.kind === 'error' ? theme.error : status?.kind === 'success' ? theme.success : {};
	return (
		<Box flexDirection="column" width={width}>
			<Text wrap="truncate-end">
				{status ? (
					<>
						<Text {...style}>
							{mark}
							{messageText(status, width - mark.length)}
						</Text>
						{status.command ? <Text {...theme.accent}> $ {status.command}</Text> : null}
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
