import type { Backend, BackendInput, BackendOutput } from '../backend.js';
import { packageVersion } from '../package-version.js';
import { GuestBuildError, describeToolError } from '../errors.js';
import { JAVASCRIPT_HARD_STOP_ADDRESS } from '../interrupt.js';
import { componentizeJs } from '../jco-tools.js';

/**
 * JavaScript guests via componentize-js (SpiderMonkey + StarlingMonkey). HTTP and the fetch
 * event are disabled: the sandbox world exports neither, and the host grants no network.
 */
export const componentizeJsBackend: Backend = {
  name: 'componentize-js',
  language: 'javascript',

  async availability() {
    return { available: true };
  },

  async build(input: BackendInput): Promise<BackendOutput> {
    const { componentize } = await componentizeJs();
    input.log('componentize-js: compiling the guest into a component (SpiderMonkey, about 15 s)');
    let component: Uint8Array;
    try {
      ({ component } = await componentize({
        sourcePath: input.sourcePath,
        witPath: input.witDir,
        worldName: input.world,
        disableFeatures: ['http', 'fetch-event'],
      }));
    } catch (error) {
      throw new GuestBuildError(
        'COMPONENTIZE_FAILED',
        `componentize-js could not build ${input.sourcePath}:\n${describeToolError(error)}`,
        { cause: error },
      );
    }
    const version = packageVersion('@bytecodealliance/componentize-js');
    return {
      component,
      readOnlyTrees: [],
      toolchain: { 'componentize-js': version },
      // No soft stop: SpiderMonkey has no interrupt flag a host can set in memory.
      interrupt: { hardStopAddress: JAVASCRIPT_HARD_STOP_ADDRESS, inStack: true },
    };
  },
};
