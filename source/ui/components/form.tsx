import {useContext, useEffect, useId} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import {DirtyContext} from '../console-context.js';
import {cursorOf, formKey, initialFormState, isDirty, type FormButton, type FormField, type FormState} from '../form-state.js';
import {ChoiceField} from './choice-field.js';
import {TextField} from './text-field.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

type Props = {
	readonly fields: readonly FormField[];
	/** The first button is what Enter on the last field presses. */
	readonly buttons: readonly FormButton[];
	readonly onPress: (button: string, values: Readonly<Record<string, string>>) => void;
	/** Esc; without it Esc does nothing here. */
	readonly onCancel?: () => void;
	readonly title?: string;
	/** While set, keys are held and this text shows (e.g. "Checking the password…"). */
	readonly busy?: string | undefined;
	readonly error?: string | undefined;
	readonly width: number;
	readonly active?: boolean;
	/** The field (or button) focused first. */
	readonly initialFocus?: number;
};

/**
 * A keyboard form: text, password and choice fields (text-field.tsx, choice-field.tsx: why they
 * are ours), then buttons. It holds the keys while focused
 * (a typed `q` is text), reports unsaved input so Ctrl-C asks first, and is driven by the pure
 * `formKey` so a pasted burst fills fields in order.
 */
export function Form({fields, buttons, onPress, onCancel, title, busy, error, width, active = true, initialFocus = 0}: Props) {
	const [state, setState, latest] = useBurstState<FormState>(() => ({...initialFormState(fields), focus: initialFocus}));
	const setDirty = useContext(DirtyContext);
	const id = useId();
	const dirty = isDirty(fields, state);
	useEffect(() => {
		setDirty(id, dirty);
	}, [setDirty, id, dirty]);
	useEffect(() => () => setDirty(id, false), [setDirty, id]);

	useKeys(
		onCancel ? ['form', 'form-cancel'] : ['form'],
		(command, key) => {
			if (busy) return key.name !== 'ctrl-c';
			const outcome = formKey(fields, buttons, latest(), command, key);
			if (outcome.state !== latest()) setState(outcome.state);
			if (outcome.cancel) {
				if (!onCancel) return false;
				onCancel();
			}
			if (outcome.press) onPress(outcome.press, outcome.state.values);
			return outcome.handled;
		},
		{priority: PRIORITY.text, kind: 'text', active},
	);

	const labelWidth = Math.max(...fields.map(f => f.label.length)) + 2;
	const boxWidth = Math.max(10, Math.min(40, width - labelWidth - 6));
	return (
		<Box flexDirection="column" width={width}>
			{title ? (
				<Box marginBottom={1}>
					<Text {...theme.title}>{title}</Text>
				</Box>
			) : null}
			{fields.map((field, index) => {
				const focused = active && index === state.focus;
				const value = state.values[field.name] ?? '';
				return (
					<Box key={field.name}>
						<Text {...(focused ? theme.accent : {})}>{focused ? theme.pointer : ' '} </Text>
						<Text {...(focused ? theme.heading : {})}>{field.label.padEnd(labelWidth)}</Text>
						{field.kind === 'choice' ? (
							<ChoiceField value={value} focused={focused} hint={field.hint} />
						) : (
							<Text wrap="truncate-end">
								<TextField line={{value, cursor: cursorOf(state, field.name)}} width={boxWidth} focused={focused} {...(field.kind === 'password' ? {mask: '•'} : {})} />
								{field.hint ? <Text {...theme.muted}> {field.hint}</Text> : null}
							</Text>
						)}
					</Box>
				);
			})}
			<Box marginTop={1} flexWrap="wrap">
				{buttons.map((button, index) => {
					const focused = active && state.focus === fields.length + index;
					return (
						<Box key={button.id} marginRight={2}>
							<Text {...(focused ? theme.selected : theme.accent)}>
								{focused ? theme.pointer : ' '}[ {button.label} ]
							</Text>
						</Box>
					);
				})}
			</Box>
			{busy ? (
				<Box marginTop={1}>
					<Text {...theme.muted}>… {busy}</Text>
				</Box>
			) : error ? (
				<Box marginTop={1} width={width}>
					<Text {...theme.error} wrap="wrap">
						✗ {error}
					</Text>
				</Box>
			) : null}
		</Box>
	);
}
