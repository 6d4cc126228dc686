export declare function replaceOnce(source: string, replacements: ReadonlyArray<readonly [string, string]>, context: {plugin: string; path: string; what: string}): string;
