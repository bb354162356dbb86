// Types of index.cjs: tap compiles its plugin list with tsc.
export declare const testFileExtensions: string[]
export declare const importLoader: string
