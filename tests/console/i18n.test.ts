import t from 'tap'
import { dictionaries, localeFromHeader, translator } from '../../src/console/i18n.js'

t.test('Russian has every English entry, with the same placeholders', async (t) => {
  for (const [key, english] of Object.entries(dictionaries.en)) {
    const russian = dictionaries.ru[key as keyof typeof dictionaries.en]
    t.ok(russian !== undefined, `ru has ${key}`)
    t.same((russian ?? '').match(/\{\w+\}/g)?.sort() ?? [], english?.match(/\{\w+\}/g)?.sort() ?? [], `${key}: same placeholders`)
  }
})

t.test('placeholders are filled and the browser language picks the default', async (t) => {
  t.equal(translator('ru')('auth.throttled', { s: 30 }), 'Слишком много попыток. Повторите через 30 с.')
  t.equal(localeFromHeader('ru-RU,ru;q=0.9,en;q=0.8'), 'ru')
  t.equal(localeFromHeader('de-DE,en;q=0.5'), 'en')
  t.equal(localeFromHeader(undefined), 'en')
})
