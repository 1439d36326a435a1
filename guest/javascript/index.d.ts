/** Directory of the built artifact (manifest.json, glue, core modules); pass it to the host. */
export declare const artifactDir: string;
export declare const language: 'javascript';
