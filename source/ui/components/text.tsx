import {Children, cloneElement, Fragment, isValidElement, type ComponentProps, type ReactElement, type ReactNode} from 'react';
import {Text as InkText} from 'ink';
import {inert} from '../../core/inert.js';

/** Every string among `children`, in fragments and arrays too, made inert; elements (a nested Text) see to their own. */
function inertChildren(children: ReactNode): ReactNode {
	return Children.map(children, child => {
		if (typeof child === 'string') return inert(child);
		if (isValidElement<{children?: ReactNode}>(child) && child.type === Fragment) {
			return cloneElement(child as ReactElement<{children?: ReactNode}>, undefined, inertChildren(child.props.children));
		}
		return child;
	});
}

/**
 * The console's only way to put text on the screen: Ink's Text, with every string it is given
 * shown inert (DESIGN §4a). Ink itself passes OSC sequences and SGR colours in text straight to
 * the terminal (its sanitize-ansi keeps them), so a username holding `ESC ] 52 ; …` would set the
 * admin's clipboard; here it reads `\e]52;…`. The linter refuses Ink's Text anywhere else in ui/.
 */
export function Text(props: ComponentProps<typeof InkText>): ReactNode {
	return <InkText {...props}>{inertChildren(props.children)}</InkText>;
}
