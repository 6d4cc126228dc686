import type {BuildOptions} from 'esbuild';

export declare const BIN_OPTIONS: BuildOptions;
export declare const BUNDLE_OPTIONS: BuildOptions;
export declare const CLI_BUNDLE_OPTIONS: BuildOptions;
export declare const CONSOLE_BUNDLE_OPTIONS: BuildOptions;
