/** What the host says to its memory maker thread (memory-maker-worker.ts), and what it answers. */

/** A guest's base image, sent once per guest. */
export interface ImageRequest {
  type: 'image';
  imageKey: string;
  initialPages: number;
  runs: Array<{ offset: number; bytes: Uint8Array }>;
}

/** Make `count` memories of that image, growable to `maxPages`. */
export interface MakeRequest {
  type: 'make';
  imageKey: string;
  stockKey: string;
  maxPages: number;
  count: number;
}

export type MakerRequest = ImageRequest | MakeRequest;

export interface MakerReply {
  stockKey: string;
  memory: WebAssembly.Memory;
}
