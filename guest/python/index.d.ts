/** Directory of the built artifact (manifest.json, glue, core modules, stdlib); pass it to the host. */
export declare const artifactDir: string;
export declare const language: 'python';
