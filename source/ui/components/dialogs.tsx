import {useState} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import {editLine, type Line} from '../line-edit.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {TextField} from './text-field.js';
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
		<Box borderStyle="round" flexDirection="column" flexShrink={0} paddingX={1} width={Math.min(width, 70)} {...(theme.noColor ? {} : {borderColor: 'yellow'})}>
			{request.kind === 'confirm' ? <ConfirmBody question={request.question} answer={answer} /> : <TypedBody question={request.question} name={request.name} answer={answer} width={Math.min(width, 70) - 4} />}
		</Box>
	);
}

function ConfirmBody({question, answer}: {readonly question: string; readonly answer: (yes: boolean) => void}) {
	// Answered: the keys typed after the answer go to what is below (the form asked about).
	useKeys(
		['dialog'],
		(command, _key, retire) => {
			if (command === 'dialog.yes' || command === 'dialog.no') {
				retire();
				answer(command === 'dialog.yes');
			}
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

function TypedBody({question, name, answer, width}: {readonly question: string; readonly name: string; readonly answer: (yes: boolean) => void; readonly width: number}) {
	// Keys of a pasted burst arrive before React re-renders: edit the latest value, not the rendered one.
	const [typed, setTyped, latest] = useBurstState<Line>({value: '', cursor: 0});
	const [mismatch, setMismatch] = useState(false);
	useKeys(
		['typed'],
		(command, key, retire) => {
			if (command === 'typed.cancel') {
				retire();
				answer(false);
			} else if (command === 'typed.confirm') {
				if (latest().value === name) {
					retire();
					answer(true);
				} else setMismatch(true);
			} else {
				const next = editLine(latest(), key);
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
				{theme.pointer} <TextField line={typed} width={Math.max(10, width - 2)} focused />
			</Text>
			{mismatch ? <Text {...theme.error}>✗ That is not {name}; type it exactly, or Esc to cancel.</Text> : null}
		</Box>
	);
}
