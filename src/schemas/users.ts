import { Type } from '@sinclair/typebox'
import { MIN_PASSWORD_LENGTH } from '../auth/passwords.js'
import { Nullable, Timestamp, Uuid } from './common.js'

// People who sign in to the web console.

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('viewer')], { description: 'admin: manages everything in the console; viewer: reads only.' })
const Password = Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 200, description: `Write-only. At least ${MIN_PASSWORD_LENGTH} characters.` })

export const UserCreate = Type.Object({
  email: Type.String({ format: 'idn-email', maxLength: 254, description: "What the user signs in with. Unique across the instance; in one of the tenant's domains." }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  role: Role,
  password: Type.Optional({ ...Password, description: `${Password.description} For scripted set-ups; without it the answer carries a one-time setPasswordUrl.` }),
  tenantId: Type.Optional(Type.String({ format: 'uuid', description: "With the instance-admin key only (required then): the tenant the user belongs to — how a new tenant's first console user is made. The instance admin may use an address outside the tenant's domains (an outside consultant)." }))
}, { additionalProperties: false, examples: [{ email: 'olga@acme.example', name: 'Olga Ivanova', role: 'viewer' }, { email: 'olga@acme.example', name: 'Olga Ivanova', role: 'admin', tenantId: '0b8e4b52-4a4c-4a38-9d2b-3f1c1f7e6a01' }] })

export const UserPatch = Type.Partial(Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  role: Role,
  disabled: Type.Boolean({ description: 'A disabled user cannot sign in; disabling ends their sessions.' }),
  password: Password,
  locale: Nullable(Type.Union([Type.Literal('en'), Type.Literal('ru')], { description: "The console's language for this user; null: the tenant's." }))
}), { additionalProperties: false, minProperties: 1, examples: [{ role: 'admin' }] })

const userExample = {
  id: '4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d',
  email: 'olga@acme.example',
  name: 'Olga Ivanova',
  role: 'viewer',
  locale: null,
  disabled: false,
  passwordSet: false,
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:00.000Z'
}

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Role,
  locale: Nullable(Type.String()),
  disabled: Type.Boolean(),
  passwordSet: Type.Boolean({ description: 'Whether the user has a password yet.' }),
  createdAt: Timestamp,
  updatedAt: Timestamp
}, { examples: [userExample] })

export const CreatedUser = Type.Object({
  ...User.properties,
  setPasswordUrl: Nullable(Type.String({ description: 'Without a password in the request: a one-time link (valid 7 days) for the user to choose one. Shown only in this answer.' }))
}, { examples: [{ ...userExample, setPasswordUrl: 'https://mailrun.acme.example/console/set-password/Vx3...' }] })
