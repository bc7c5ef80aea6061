export * from '../../src/simulator/mail-catcher.js'
