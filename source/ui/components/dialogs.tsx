import {useState} from 'react';
import {Box, Text} from 'ink';
import {editText} from '../key-press.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

/** A question asked by `confirm()` or `confirmTyped()`. */
export type DialogRequest =
	/** `quit`: the question Ctrl-C asks before quitting with unsaved input (a second Ctrl-C answers it). */
	| {readonly kind: 'confirm'; readonly question: string; readonly purpose?: 'quit'; readonly resolve: (yes: boolean) => void}
	| {readonly kind: 'typed'; readonly question: string; readonly name: string; readonly resolve: (yes: boolean) => void};

type Props = {readonly request: DialogRequest; readonly width: number; readonly onClose: () => void};

/** Renders the pending question; it holds every key until answered. */
export function Dialog({request, width, onClose}: Props) {
	const answer = (yes: boolean) => {
		onClose();
		request.resolve(yes);
	};
	return (
		<Box borderStyle="round" flexDirection="column" paddingX={1} width={Math.min(width, 70)} {...(theme.noColor ? {} : {borderColor: 'yellow'})}>
			{request.kind === 'confirm' ? <ConfirmBody question={request.question} answer={answer} /> : <TypedBody question={request.question} name={request.name} answer={answer} />}
		</Box>
	);
}

function ConfirmBody({question, answer}: {readonly question: string; readonly answer: (yes: boolean) => void}) {
	useKeys(
		['dialog'],
		command => {
			if (command === 'dialog.yes') answer(true);
			else if (command === 'dialog.no') answer(false);
			return true;
		},
		{priority: PRIORITY.dialog, kind: 'modal'},
	);
	return (
		<Text wrap="wrap">
			<Text {...theme.warning}>{question}</Text> <Text {...theme.key}>[y/N]</Text>
		</Text>
	);
}

function TypedBody({question, name, answer}: {readonly question: string; readonly name: string; readonly answer: (yes: boolean) => void}) {
	// Keys of a pasted burst arrive before React re-renders: edit the latest value, not the rendered one.
	const [typed, setTyped, latest] = useBurstState('');
	const [mismatch, setMismatch] = useState(false);
	useKeys(
		['typed'],
		(command, key) => {
			if (command === 'typed.cancel') answer(false);
			else if (command === 'typed.confirm') {
				if (latest() === name) answer(true);
				else setMismatch(true);
			} else {
				const next = editText(latest(), key);
				if (next !== undefined) {
					setTyped(next);
					setMismatch(false);
				}
			}
			return true;
		},
		{priority: PRIORITY.dialog, kind: 'text'},
	);
	return (
		<Box flexDirection="column">
			<Text {...theme.warning} wrap="wrap">
				{question}
			</Text>
			<Text>
				Type <Text {...theme.heading}>{name}</Text> to confirm, Esc to cancel:
			</Text>
			<Text>
				{theme.pointer} {typed}
				<Text inverse> </Text>
			</Text>
			{mismatch ? <Text {...theme.error}>✗ That is not {name}; type it exactly, or Esc to cancel.</Text> : null}
		</Box>
	);
}
