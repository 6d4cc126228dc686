declare const __ORGCTL_VALIDATOR_ID__: string | undefined;

/**
 * The validation rules of this build, set by the bundler (scripts/bundle-options.mjs): a hash of
 * source/core, source/store and zod. Undefined when run from source (tsx, the tests' in-process
 * stores): a store file is then checked whole on every open, as its digest could not tell one
 * edit of the rules from another.
 */
export const VALIDATOR_ID: string | undefined = typeof __ORGCTL_VALIDATOR_ID__ === 'string' ? __ORGCTL_VALIDATOR_ID__ : undefined;
