import {useContext, useEffect, useLayoutEffect, useId, useRef} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import {FormHostContext} from '../console-context.js';
import {formKey, initialFormState, isDirty, lineOf, type FormButton, type FormError, type FormField, type FormState} from '../form-state.js';
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
	/** Esc (after asking, when something was typed); without it Esc does nothing here. */
	readonly onCancel?: () => void;
	readonly title?: string;
	/** While set, keys are held and this text shows (e.g. "Checking the password…"). */
	readonly busy?: string | undefined;
	/** The last refusal: shown beside the field it names (which gets the focus), else under the buttons. */
	readonly error?: string | FormError | undefined;
	readonly width: number;
	readonly active?: boolean;
	/** The field (or button) focused first. */
	readonly initialFocus?: number;
};

/** The widest a text field is drawn; longer values scroll inside it. */
const MAX_FIELD_WIDTH = 44;

/**
 * A keyboard form: text, password and choice fields (text-field.tsx, choice-field.tsx: why they
 * are ours), then buttons. It holds the keys while focused (a typed `q` is text), never loses what
 * was typed (Esc asks first when something was; a refusal keeps it open, the error beside the field
 * at fault), reports unsaved input so Ctrl-C asks first, and is driven by the pure `formKey` so a
 * pasted burst fills fields in order.
 */
export function Form({fields, buttons, onPress, onCancel, title, busy, error, width, active = true, initialFocus = 0}: Props) {
	const [state, setState, latest] = useBurstState<FormState>(() => ({...initialFormState(fields), focus: initialFocus}));
	const {setDirty, confirm} = useContext(FormHostContext);
	const id = useId();
	const dirty = isDirty(fields, state);
	const asking = useRef(false);
	useEffect(() => {
		setDirty(id, dirty);
	}, [setDirty, id, dirty]);
	useEffect(() => () => setDirty(id, false), [setDirty, id]);

	const problem: FormError | undefined = typeof error === 'string' ? {message: error} : error;
	const faultIndex = problem?.field === undefined ? -1 : fields.findIndex(f => f.name === problem.field);
	// A new refusal about one field puts the cursor there with its value selected: typing replaces
	// it, ← → edit it, and every other field keeps what was typed. In the commit that shows the
	// refusal (a layout effect), not after it: a key typed as soon as the refusal is on the screen
	// must find the cursor there (CI under load: "bob" typed then read "ob", its "b" spent on the
	// button the cursor was still on).
	const faultName = faultIndex >= 0 ? fields[faultIndex]!.name : undefined;
	useLayoutEffect(() => {
		if (faultIndex < 0 || faultName === undefined) return;
		setState(current => ({...current, focus: faultIndex, selected: {...current.selected, [faultName]: (current.values[faultName] ?? '') !== ''}}));
	}, [error, faultIndex, faultName, setState]);

	const cancel = async () => {
		if (!onCancel || asking.current) return;
		if (isDirty(fields, latest())) {
			asking.current = true;
			const discard = await confirm('Discard what you typed in this form?');
			asking.current = false;
			if (!discard) return;
		}
		onCancel();
	};

	useKeys(
		onCancel ? ['form', 'form-cancel'] : ['form'],
		(command, key) => {
			if (busy) return key.name !== 'ctrl-c';
			const outcome = formKey(fields, buttons, latest(), command, key);
			if (outcome.state !== latest()) setState(outcome.state);
			if (outcome.cancel) {
				if (!onCancel) return false;
				void cancel();
			}
			if (outcome.press) onPress(outcome.press, outcome.state.values);
			return outcome.handled;
		},
		{priority: PRIORITY.text, kind: 'text', active},
	);

	const labelWidth = Math.max(...fields.map(f => f.label.length), 0) + 2;
	// Pointer (2 columns) and label, then the field; a hint that does not fit after it goes under it.
	const room = Math.max(10, width - 2 - labelWidth);
	const boxWidth = Math.min(MAX_FIELD_WIDTH, room);
	const general = problem && faultIndex < 0 ? problem.message : undefined;
	return (
		<Box flexDirection="column" width={width}>
			{title ? (
				<Box marginBottom={1}>
					<Text {...theme.title} wrap="truncate-end">
						{title}
					</Text>
				</Box>
			) : null}
			{fields.map((field, index) => {
				const focused = active && index === state.focus;
				const value = state.values[field.name] ?? '';
				const hint = field.hint;
				const hintBeside = hint !== undefined && boxWidth + 1 + [...hint].length <= room;
				const fault = index === faultIndex ? problem?.message : undefined;
				return (
					<Box key={field.name} flexDirection="column" width={width}>
						<Box width={width}>
							<Box width={2} flexShrink={0}>
								<Text {...(focused ? theme.accent : {})}>{focused ? theme.pointer : ' '}</Text>
							</Box>
							<Box width={labelWidth} flexShrink={0}>
								<Text {...(focused ? theme.heading : {})}>{field.label}</Text>
							</Box>
							<Box width={room} flexShrink={0}>
								{field.kind === 'choice' ? (
									<ChoiceField value={value} options={field.options ?? []} focused={focused} width={room} />
								) : (
									<Text wrap="truncate-end">
										<TextField line={lineOf(state, field.name)} width={boxWidth} focused={focused} {...(field.kind === 'password' ? {mask: '•'} : {})} />
										{hintBeside ? <Text {...theme.muted}> {hint}</Text> : null}
									</Text>
								)}
								{field.kind === 'choice' && hintBeside ? <Text {...theme.muted}> {hint}</Text> : null}
							</Box>
						</Box>
						{hint !== undefined && !hintBeside && focused ? (
							<Box marginLeft={2 + labelWidth} width={room}>
								<Text {...theme.muted} wrap="wrap">
									{hint}
								</Text>
							</Box>
						) : null}
						{fault !== undefined ? (
							<Box marginLeft={2 + labelWidth} width={room}>
								<Text {...theme.error} wrap="wrap">
									✗ {fault}
								</Text>
							</Box>
						) : null}
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
			) : general !== undefined ? (
				<Box marginTop={1} width={width}>
					<Text {...theme.error} wrap="wrap">
						✗ {general}
					</Text>
				</Box>
			) : null}
		</Box>
	);
}
