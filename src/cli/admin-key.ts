import { generateKey } from '../auth/api-keys.js'
import { pendingMigrations } from '../db/migrate.js'
import { CommandError, configFrom, withDatabase } from './database.js'

/**
 * `mailrun admin-key rotate`: a new instance-admin key replaces the stored ones, which stop working
 * at once, and the instance-admin console sessions end. A key set by MAILRUN_ADMIN_KEY is the
 * operator's to change: rotating the stored one would not touch it.
 */
export async function rotateAdminKey (): Promise<number> {
  const config = configFrom(process.env)
  if (config.adminKey !== undefined) {
    throw new CommandError('the instance-admin key comes from MAILRUN_ADMIN_KEY: set a new value there and restart mailrun (nothing stored was changed)')
  }
  const key = await withDatabase(config, async (database) => {
    if ((await pendingMigrations(database.db)).length > 0) throw new CommandError('the database is not migrated yet: run `mailrun migrate` (or start mailrun once) first')
    return await database.db.transaction().execute(async (trx) => {
      const revoked = await trx.updateTable('api_keys').set({ revoked_at: new Date() }).where('scope', '=', 'admin').where('revoked_at', 'is', null).returning('id').execute()
      const { key, hash, prefix } = generateKey('admin')
      await trx.insertInto('api_keys').values({ scope: 'admin', tenant_id: null, name: `rotated ${new Date().toISOString()}`, prefix, key_hash: hash }).execute()
      await trx.deleteFrom('console_sessions').where('instance_admin', '=', true).execute()
      return { key, revoked: revoked.length }
    })
  })
  // Printed, never logged: whoever ran the command is the one who must keep it.
  process.stdout.write([
    `New instance-admin API key (shown only this once; only its hash is stored; ${key.revoked} previous key${key.revoked === 1 ? '' : 's'} revoked, instance-admin console sessions ended):`,
    '',
    `    ${key.key}`,
    '',
    ''
  ].join('\n'))
  return 0
}
