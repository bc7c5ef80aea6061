// The simulator lives in src/simulator so that `mailrun simulator` can run it; tests import it from here.
export * from '../../src/simulator/orchestrator.js'
