/**
 * Passwords of 8+ characters that top the public breach-frequency lists (NCSC/HIBP top lists, RockYou).
 * Shorter ones fail the length rule anyway. Compared case-insensitively; the policy also refuses the user
 * name, one repeated character, and simple sequences. A firm that wants a larger list can point
 * TRADEDESK_PASSWORD_BLOCKLIST at a file with one password per line.
 */
export const COMMON_PASSWORDS: readonly string[] = `
password 12345678 123456789 1234567890 12345678910 password1 password12 password123 password1234 passw0rd
p@ssw0rd p@ssword pa55word pa$$word qwertyuiop qwerty123 qwerty1234 qwerty12345 1qaz2wsx 1q2w3e4r 1q2w3e4r5t
1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 zaq12wsx zaq1zaq1 qazwsxedc qazwsx123 asdfghjkl asdfasdf asdf1234 zxcvbnm1
zxcvbnm123 iloveyou iloveyou1 iloveyou2 princess princess1 sunshine sunshine1 football football1 baseball
baseball1 basketball superman superman1 batman123 starwars starwars1 trustno1 whatever whatever1 welcome1
welcome123 welcome12 letmein1 letmein123 monkey123 dragon123 shadow123 master123 michael1 jennifer jordan23
11111111 111111111 1111111111 00000000 000000000 0000000000 88888888 99999999 12121212 11223344 12341234
123123123 123456123 1234512345 147258369 123321123 987654321 9876543210 87654321 55555555 66666666 22222222
abcdefgh abcd1234 abc12345 abc123456 a1b2c3d4 aa123456 computer computer1 internet changeme changeme1
changeme123 secret123 security administrator admin123 admin1234 adminadmin root1234 rootroot test1234
testing123 testtest letmein! welcome! password! password1! Password1 Password12 Password123 Password123!
P@ssw0rd1 P@ssword1 Passw0rd! Qwerty123! Summer2023 Summer2024 Summer2025 Winter2023 Winter2024 Winter2025
Spring2024 Spring2025 Autumn2024 January2024 monkey12 charlie1 charlie123 michelle jessica1 ashley123
mustang1 harley123 freedom1 hunter12 hunter123 ranger123 soccer123 hockey123 killer123 pepper123 ginger123
chocolate cookie123 butterfly butterfly1 flower123 purple123 orange123 banana123 summer123 samsung123
liverpool chelsea1 arsenal1 manchester barcelona realmadrid pokemon1 pokemon123 minecraft minecraft1
fortnite1 naruto123 loveyou1 lovelove lovely123 babygirl babygirl1 princesa tequiero iloveu123 anthony1
matthew1 andrew123 daniel123 joshua123 thomas123 robert123 william1 jonathan nicholas alexander alexandra
elizabeth samantha victoria christian midnight1 blink182 metallica nirvana1 rockyou1 zxcvbnm12 asdfghjk
qwertyui qwerty12 qwerty11 1qazxsw2 2wsx3edc xsw21qaz !qaz2wsx qweasdzxc qweqweqwe asdasdasd zxczxczxc
abcabcabc aaaaaaaa aaaaaaaaa bbbbbbbb 1a2b3c4d 1234qwer qwer1234 1234asdf asdf;lkj letmein12 google123
facebook1 linkedin1 twitter1 yahoo123 hotmail1 gmail123 apple123 microsoft windows10 windows7 mypassword
mypassword1 thepassword yourpassword nopassword passpass passwort passwort1 motdepasse contraseña senha123
trading1 trading123 trader123 stocks123 money123 moneymoney bitcoin1 bitcoin123 invest123 tradedesk
tradedesk1 tradedesk123 exchange1 exchange123 letmeinnow opensesame iamtheone godisgood jesus123 blessed1
`
  .split(/\s+/)
  .filter((s) => s.length > 0);
