import type {ComponentType} from 'react';
import type {Action} from '../../core/policy.js';

/** The space a section draws in: the right-hand pane. */
export type SectionProps = {
	readonly width: number;
	readonly height: number;
	/**
	 * True for the console's first frame only (Ink draws it, and runs its effects, within render()):
	 * the section may make just what that frame shows if the rest is made before the console can
	 * read a key, in a microtask, which runs before any input, resize or timer callback. Not a React
	 * update: one made then is drawn from a later immediate, after keys may have been read.
	 */
	readonly starting?: boolean;
};

/**
 * One entry of the left pane. A section is shown only to users for whom the policy allows
 * `visibleWith` (`mayView`), so the console hides what the core would refuse anyway.
 */
export type Section = {
	/** Also the key map context (`where`) of the section's own keys, e.g. `users`. */
	readonly id: string;
	/** The left pane's label, as in Organization Settings. */
	readonly title: string;
	/** The label where the terminal is narrow (under 100 columns), so the section gets the width. */
	readonly short?: string;
	/** Position in the left pane: lower first (Users 10, Invitations 20, Sign-up 30, ... My Account 90). */
	readonly order: number;
	readonly visibleWith: Action;
	/** Key contexts of the section's parts besides its id (panes, overlays): help lists them only where the section shows. */
	readonly contexts?: readonly string[];
	readonly Component: ComponentType<SectionProps>;
};
