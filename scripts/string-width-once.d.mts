import type {Plugin} from 'esbuild';

export declare const SIMPLE_RANGES: ReadonlyArray<readonly [number, number]>;
export declare function patchStringWidth(source: string, path: string): string;
export declare const stringWidthOnce: Plugin;
