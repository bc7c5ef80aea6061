export * from '../../src/simulator/chat-services.js'
