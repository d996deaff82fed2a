/**
 * Jest: TypeScript through ts-jest. jose 6 ships ES modules only, which jest cannot require
 * on Node 20, so its files are transpiled to CommonJS like our own.
 */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    '^.+/node_modules/jose/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // A backstop for a hang, not a deadline of the work: every wait, source and OneID call in the tests has its own.
  // Hooks build worlds within it: 600 people took 47 s on SQLite at a load of 29 on 2 cores (32 s on MariaDB at 26)
  // and passed 60 s at 31 (insights.test.ts failed every test that way); larger worlds set 120-300 s themselves.
  testTimeout: 180000,
  // Every temporary directory of a run under one, removed at its end (test/helpers/tmp.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
