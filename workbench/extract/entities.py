"""Provides a rule-based finder of people, organisations and places in French and English news.

No model and no third-party package: a gazetteer of countries, cities and bodies (French and
English names, normalised to one English name), honorifics and titles that announce a person
("M. Poutine", "le président russe Vladimir Poutine", "Secretary of State Mike Pompeo"),
organisation heads ("Parti", "Commission", "Ministry", "Inc"), acronyms ("G20", "OTAN") and
capitalised First Last sequences. Short names are completed from the article: "M. Ouchakov"
becomes "Youri Ouchakov" when the article writes the full name elsewhere.

Spans are half-open offsets into the sentence given, `sentence[start:end] == text`; an
honorific is part of a person's span ("M. Poutine"), a title is not ("President Donald Trump"
gives "Donald Trump"). Entities never overlap and come sorted by start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import pairwise

from workbench.extract.claimant import expand_name
from workbench.index.bridge import _fold, month_number

PERSON = "person"
ORGANISATION = "organisation"
PLACE = "place"


@dataclass(frozen=True)
class Entity:
    """A named entity in a sentence: its text and span, its kind and its normalised name."""

    text: str
    start: int
    end: int
    kind: str
    normal: str

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


# --- gazetteer --------------------------------------------------------------------------------
#
# One line per name: "Canonical English name: variant, variant, ...". A variant matches with
# its case: a capitalised word must be capitalised in the text ("Nice" the city, not "nice"),
# an all-capitals variant must be all capitals ("US", not "us"; "WHO", not "who"). A variant
# marked "fr:" or "en:" only matches in that language ("Mexico" is the capital in French, the
# country in English). Adjectives ("russe", "Russian") are deliberately absent: they are not
# places. First names that are also cities (Nancy, Florence, Austin) are left out.

_PLACES = """
United States: Etats-Unis, États-Unis, Etats Unis, Etats-Unis d'Amérique, États-Unis d'Amérique,
 United States, United States of America, U.S., U.S.A., US, USA, America, Amérique
Russia: Russie, Fédération de Russie, Russia, Russian Federation
China: Chine, République populaire de Chine, China, People's Republic of China
Japan: Japon, Japan
France: France
Germany: Allemagne, Germany
United Kingdom: Royaume-Uni, Royaume Uni, Grande-Bretagne, United Kingdom, Great Britain,
 Britain, UK, U.K.
England: Angleterre, England
Scotland: Ecosse, Écosse, Scotland
Wales: Pays de Galles, Wales
Northern Ireland: Irlande du Nord, Northern Ireland
Ireland: Irlande, Ireland
Italy: Italie, Italy
Spain: Espagne, Spain
Portugal: Portugal
Canada: Canada
Mexico: Mexique, en:Mexico
Mexico City: fr:Mexico, Mexico City
Brazil: Brésil, Brazil
Argentina: Argentine, Argentina
Chile: Chili, Chile
Colombia: Colombie, Colombia
Peru: Pérou, Peru
Venezuela: Venezuela
Cuba: Cuba
India: Inde, India
Pakistan: Pakistan
Afghanistan: Afghanistan
Indonesia: Indonésie, Indonesia
Australia: Australie, Australia
New Zealand: Nouvelle-Zélande, New Zealand
South Korea: Corée du Sud, South Korea, Republic of Korea
North Korea: Corée du Nord, North Korea
Korea: Corée, Korea
South Africa: Afrique du Sud, South Africa
Saudi Arabia: Arabie saoudite, Saudi Arabia
Turkey: Turquie, Turkey, Türkiye
Ukraine: Ukraine
Belarus: Biélorussie, Bélarus, Belarus
Georgia: Géorgie, en:Georgia
Armenia: Arménie, Armenia
Azerbaijan: Azerbaïdjan, Azerbaijan
Kazakhstan: Kazakhstan
Moldova: Moldavie, Moldova
Poland: Pologne, Poland
Belgium: Belgique, Belgium
Netherlands: Pays-Bas, Netherlands, Holland
Switzerland: Suisse, Switzerland
Austria: Autriche, Austria
Sweden: Suède, Sweden
Norway: Norvège, Norway
Finland: Finlande, Finland
Denmark: Danemark, Denmark
Greece: Grèce, Greece
Hungary: Hongrie, Hungary
Romania: Roumanie, Romania
Bulgaria: Bulgarie, Bulgaria
Serbia: Serbie, Serbia
Croatia: Croatie, Croatia
Czech Republic: République tchèque, Czech Republic, Czechia
Estonia: Estonie, Estonia
Latvia: Lettonie, Latvia
Lithuania: Lituanie, Lithuania
Luxembourg: Luxembourg
Iran: Iran
Iraq: Irak, Iraq
Syria: Syrie, Syria
Israel: Israël, Israel
Palestine: Palestine
Gaza: Gaza, Bande de Gaza, Gaza Strip
West Bank: Cisjordanie, West Bank
Lebanon: Liban, Lebanon
Jordan: Jordanie, Jordan
Egypt: Egypte, Égypte, Egypt
Libya: Libye, Libya
Yemen: Yémen, Yemen
Qatar: Qatar
United Arab Emirates: Emirats arabes unis, Émirats arabes unis, United Arab Emirates, UAE
Algeria: Algérie, Algeria
Morocco: Maroc, Morocco
Tunisia: Tunisie, Tunisia
Nigeria: Nigeria
Ethiopia: Ethiopie, Éthiopie, Ethiopia
Kenya: Kenya
Mali: Mali
Sudan: Soudan, Sudan
Democratic Republic of the Congo: RDC, République démocratique du Congo,
 Democratic Republic of the Congo, DRC
Vietnam: Viêt Nam, Vietnam, Viet Nam
Thailand: Thaïlande, Thailand
Philippines: Philippines
Malaysia: Malaisie, Malaysia
Singapore: Singapour, Singapore
Taiwan: Taïwan, Taiwan
Myanmar: Birmanie, Myanmar
Soviet Union: URSS, Union soviétique, Soviet Union, USSR
Crimea: Crimée, Crimea
Donbas: Donbass, Donbas
Kosovo: Kosovo
Tibet: Tibet
Europe: Europe
Africa: Afrique, Africa
Asia: Asie, Asia
Latin America: Amérique latine, Latin America
North America: Amérique du Nord, North America
South America: Amérique du Sud, South America
Middle East: Moyen-Orient, Proche-Orient, Middle East
Balkans: Balkans
Caucasus: Caucase, Caucasus
Siberia: Sibérie, Siberia
Arctic: Arctique, Arctic
California: Californie, California
Texas: Texas
Florida: Floride, Florida
Alaska: Alaska
Washington: Washington
New York: New York
Los Angeles: Los Angeles
San Francisco: San Francisco
Chicago: Chicago
Boston: Boston
Miami: Miami
Moscow: Moscou, Moscow
Saint Petersburg: Saint-Pétersbourg, St Petersburg, St. Petersburg, Saint Petersburg
Sochi: Sotchi, Sochi
Vladivostok: Vladivostok
Kaliningrad: Kaliningrad
Paris: Paris
London: Londres, London
Beijing: Pékin, Beijing, Peking
Shanghai: Shanghai, Shanghaï
Hong Kong: Hong Kong
Tokyo: Tokyo
Osaka: Osaka
Kyoto: Kyoto
Hiroshima: Hiroshima
Seoul: Séoul, Seoul
Pyongyang: Pyongyang
Kyiv: Kiev, Kyiv
Kharkiv: Kharkov, Kharkiv
Odesa: Odessa, Odesa
Donetsk: Donetsk
Luhansk: Lougansk, Louhansk, Luhansk, Lugansk
Minsk: Minsk
Brussels: Bruxelles, Brussels
Geneva: Genève, Geneva
Berlin: Berlin
Munich: Munich
Frankfurt: Francfort, Frankfurt
Hamburg: Hambourg, Hamburg
Rome: Rome
Milan: Milan
Madrid: Madrid
Barcelona: Barcelone, Barcelona
Lisbon: Lisbonne, Lisbon
Vienna: fr:Vienne, Vienna
Warsaw: Varsovie, Warsaw
Prague: Prague
Budapest: Budapest
Athens: Athènes, Athens
Stockholm: Stockholm
Oslo: Oslo
Helsinki: Helsinki
Copenhagen: Copenhague, Copenhagen
Amsterdam: Amsterdam
The Hague: La Haye, The Hague
Dublin: Dublin
Strasbourg: Strasbourg
Lyon: Lyon
Marseille: Marseille
Nice: fr:Nice
Bordeaux: Bordeaux
Toulouse: Toulouse
Davos: Davos
Ottawa: Ottawa
Toronto: Toronto
Montreal: Montréal, Montreal
Quebec: Québec, Quebec
Brasilia: Brasilia, Brasília
Buenos Aires: Buenos Aires
Caracas: Caracas
Havana: La Havane, Havana
New Delhi: New Delhi, Delhi
Mumbai: Bombay, Mumbai
Jakarta: Jakarta, Djakarta
Riyadh: Riyad, Riyadh
Pretoria: Pretoria
Johannesburg: Johannesbourg, Johannesburg
Ankara: Ankara
Istanbul: Istanbul
Canberra: Canberra
Sydney: en:Sydney
Tehran: Téhéran, Tehran
Baghdad: Bagdad, Baghdad
Damascus: Damas, Damascus
Aleppo: Alep, Aleppo
Beirut: Beyrouth, Beirut
Jerusalem: Jérusalem, Jerusalem
Tel Aviv: Tel-Aviv, Tel Aviv
Cairo: Le Caire, Cairo
Kabul: Kaboul, Kabul
Islamabad: Islamabad
Doha: Doha
Dubai: Dubaï, Dubai
Abu Dhabi: Abou Dhabi, Abu Dhabi
Tbilisi: Tbilissi, Tbilisi
Yerevan: Erevan, Yerevan
Baku: Bakou, Baku
Astana: Astana
Bangkok: Bangkok
Hanoi: Hanoï, Hanoi
Manila: Manille, Manila
Taipei: Taipei, Taïpei
Nairobi: Nairobi
Lagos: Lagos
Algiers: Alger, Algiers
Tunis: Tunis
Rabat: Rabat
Dakar: Dakar
Bamako: Bamako
Kinshasa: Kinshasa
Addis Ababa: Addis-Abeba, Addis Ababa
"""

_ORGANISATIONS = """
United Nations: ONU, Nations unies, Nations Unies, Organisation des Nations unies, UN, U.N.,
 United Nations
UN Security Council: Conseil de sécurité, Conseil de sécurité de l'ONU,
 Conseil de sécurité des Nations unies, Security Council, UN Security Council
NATO: OTAN, NATO
European Union: UE, Union européenne, EU, European Union
European Commission: Commission européenne, European Commission
European Parliament: Parlement européen, European Parliament
European Central Bank: BCE, Banque centrale européenne, ECB, European Central Bank
G20: G20, G-20
G7: G7, G-7
G8: G8, G-8
BRICS: BRICS
ASEAN: ASEAN, ANASE
African Union: Union africaine, African Union
OSCE: OSCE
OECD: OCDE, OECD
OPEC: OPEP, OPEC
World Health Organization: OMS, Organisation mondiale de la santé, WHO,
 World Health Organization
World Trade Organization: OMC, Organisation mondiale du commerce, WTO,
 World Trade Organization
International Monetary Fund: FMI, Fonds monétaire international, IMF,
 International Monetary Fund
World Bank: Banque mondiale, World Bank
Federal Reserve: Réserve fédérale, Federal Reserve, Fed
IAEA: AIEA, Agence internationale de l'énergie atomique, IAEA,
 International Atomic Energy Agency
UNESCO: UNESCO
UNICEF: UNICEF
Interpol: Interpol
Europol: Europol
International Criminal Court: CPI, Cour pénale internationale, ICC, International Criminal Court
FBI: FBI
CIA: CIA
NSA: NSA
NASA: NASA
KGB: KGB
FSB: FSB
GRU: GRU
White House: Maison Blanche, Maison-Blanche, White House
Kremlin: Kremlin
Pentagon: Pentagone, Pentagon
Elysee Palace: Elysée, Élysée, Elysee, Elysée Palace, Élysée Palace
Downing Street: Downing Street
State Department: Département d'Etat, département d'Etat, Département d'État, département d'État,
 State Department, Department of State
Congress: Congrès, Congress
Senate: Sénat, Senate
House of Representatives: Chambre des représentants, House of Representatives
State Duma: Douma, Duma, State Duma
Bundestag: Bundestag
Knesset: Knesset
Supreme Court: Cour suprême, Supreme Court
Hamas: Hamas
Hezbollah: Hezbollah, Hizbollah
Taliban: Taliban, Talibans, talibans
Al-Qaeda: Al-Qaïda, al-Qaïda, Al-Qaida, al-Qaida, Al-Qaeda, al-Qaeda
Islamic State: Etat islamique, État islamique, Islamic State, Daech, Daesh, ISIS, EI
United Russia: Russie unie, United Russia
Republican Party: Parti républicain, Republican Party, GOP
Democratic Party: Parti démocrate, Democratic Party
Labour Party: Parti travailliste, Labour Party
Conservative Party: Parti conservateur, Conservative Party
Socialist Party: Parti socialiste, PS
Les Républicains: Les Républicains, LR
Rassemblement National: Rassemblement national, RN
Front National: Front national, FN
La République en marche: La République en marche, LREM, LaREM
AFP: AFP, Agence France-Presse
Reuters: Reuters
Associated Press: Associated Press, AP
BBC: BBC
CNN: CNN
TASS: TASS, Tass
RIA Novosti: RIA Novosti, RIA
Interfax: Interfax
Sputnik: Sputnik
RT: RT, Russia Today
Le Monde: Le Monde
Le Figaro: Le Figaro
Paris Match: Paris Match
New York Times: New York Times
Washington Post: Washington Post
Wall Street Journal: Wall Street Journal
Gazprom: Gazprom
Rosneft: Rosneft
Huawei: Huawei
Google: Google
Facebook: Facebook
Twitter: Twitter
Microsoft: Microsoft
Boeing: Boeing
Airbus: Airbus
General Motors: General Motors
General Electric: General Electric
Goldman Sachs: Goldman Sachs
"""


def _parse_table(table: str) -> Iterable[tuple[str, str, str]]:
    """(variant, canonical name, language or '') for each variant of a table."""
    for line in re.sub(r"\n ", " ", table).strip().splitlines():
        canonical, variants = line.split(":", 1)
        for variant in (v.strip() for v in variants.split(",")):
            lang, _, name = variant.partition(":") if variant[2:3] == ":" else ("", "", variant)
            yield name, canonical.strip(), lang


# --- word lists -------------------------------------------------------------------------------
# All lists hold folded words (lower case, no accents); `_words` folds what it is given.


def _words(text: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in text.split())


_HONORIFICS = frozenset(
    {"M.", "MM.", "Mme", "Mmes", "Mlle", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Dr", "Dr.",
     "Pr", "Pr.", "Prof.", "Monsieur", "Madame", "Mademoiselle", "Sir", "Dame"}
)  # fmt: skip
# Words that end in a dot which belongs to the word, not to the sentence.
_DOTTED = frozenset(
    {"M", "MM", "Mr", "Mrs", "Ms", "Dr", "Pr", "Prof", "St", "Ste", "Jr", "Sr", "Sen", "Rep",
     "Gov", "Gen", "Lt", "Col", "Capt", "Adm", "Sgt", "Mgr", "Inc", "Ltd", "Corp", "Co", "Mt",
     "Ft", "Pres", "Rev"}
)  # fmt: skip
# Titles announce a person ("le président Macron", "Foreign Minister Sergei Lavrov"); they are
# never part of a name. Words that only occur inside titles ("State" in "Secretary of State",
# "Etat" in "Secrétaire d'Etat") count as titles too, so that a title is stripped whole.
_TITLES = _words(
    "président présidente president vice-président vice-president vice premier prime ministre "
    "minister secrétaire secretary chancelier chancelière chancellor roi reine king queen "
    "prince princesse princess pape pope émir emir cheikh sheikh sultan général general amiral "
    "admiral colonel capitaine captain lieutenant commandant commander sénateur sénatrice "
    "senator sen. sen représentant representative rep. congressman congresswoman gouverneur "
    "governor gov. gov maire mayor juge judge justice procureur procureure prosecutor attorney "
    "counsel directeur directrice director chairman chairwoman chair ceo pdg porte-parole "
    "spokesman spokeswoman spokesperson ambassadeur ambassadrice ambassador envoyé envoy "
    "émissaire dirigeant dirigeante leader chef chief conseiller conseillère adviser advisor "
    "député députée deputy mp speaker commissaire commissioner haut-commissaire patron "
    "foreign defence defense interior home state etat treasury affairs homeland national "
    "security special spécial executive majority minority whip gen. gen lt. col. capt. adm. "
    "sgt. pres. former ex acting interim outgoing affaires diplomatie défense intérieur "
    "armées finances économie"
)
# Lower-case words that may sit between a title and the name ("le président russe Poutine").
_TITLE_FILLERS = _words(
    "spécial spéciale special adjoint adjointe général générale sortant sortante nouveau "
    "nouvelle ancien ancienne former then new acting interim outgoing de la du des d' l' of the "
    "affaires étrangères diplomatie"
)
# Function words, pronouns and sentence openers that are capitalised only because they start a
# sentence or a quotation, and are never a name on their own.
_STOP = _words(
    "le la les l' un une des du de d' au aux ce cet cette ces il elle ils elles on nous vous je "
    "j' tu y en et ou mais donc or ni car si que qu' qui quoi dont où quand lorsque lorsqu' "
    "comme avant après pour par selon dans sur sous chez contre entre malgré lors pendant depuis "
    "sans vers avec aussi ainsi alors cependant pourtant toutefois enfin néanmoins puis ensuite "
    "outre hier demain aujourd'hui désormais déjà encore plus moins tous tout toute toutes "
    "chaque cela ceci ça son sa ses leur leurs notre nos votre vos mon ma mes oui non voici "
    "voilà parmi face selon d'après c' n' s' m' t' "
    "the a an this that these those it its he she they we you i his her their our my your "
    "in on at by for from with without after before during since until while when where why "
    "how what which who whom whose if but and or so yet also however meanwhile still although "
    "though because as of to into over under between among according despite there here then "
    "now last next earlier later today yesterday tomorrow tonight both all some many most "
    "several such no not yes one two three each every other another any nor per asked "
    "speaking dear thanks please "
    # People described, not named, who often open a sentence and "say" something.
    "officials official analysts experts diplomats sources authorities critics residents "
    "witnesses investigators lawmakers legislators reporters observers prosecutors "
    "protesters voters leaders ministers doctors scientists researchers"
)
_CALENDAR = _words(
    "lundi mardi mercredi jeudi vendredi samedi dimanche monday tuesday wednesday thursday "
    "friday saturday sunday noël noel pâques christmas easter ramadan"
)
# Month abbreviations that are also names ("Jan Kowalski").
_MONTH_ABBREVIATIONS = _words("jan feb apr jun jul aug sep sept oct nov dec")
_CONNECTORS = _words(
    "de du des d' la le l' of the for von van der den ter da di do dos del bin ben ibn al el y"
)
# Words that make a capitalised sequence an organisation ("Parti socialiste", "Moscow State
# University", "Goldman Sachs Group Inc.").
_ORG_HEADS = _words(
    "parti party réserve reserve ministère ministry département department commission committee "
    "comité banque bank université university college école school institut institute académie "
    "academy conseil council assemblée assembly sénat senate congrès congress parlement parliament "
    "cour court tribunal agence agency office bureau fondation foundation fonds fund organisation "
    "organization association fédération federation union alliance front mouvement movement ligue "
    "league groupe group compagnie company corporation corp corp. inc inc. ltd ltd. llc plc gmbh "
    "holding holdings airlines bancorp motors times post journal tribune herald gazette telegraph "
    "guardian press police army armée navy gendarmerie administration gouvernement government "
    "cabinet autorité authority église church hôpital hospital musée museum club forum secrétariat "
    "secretariat centre center observatoire observatory tv television télévision radio news "
    "network réseau"
)
# Words that continue a French organisation name after its head ("Parti communiste chinois",
# "Conseil de sécurité de l'ONU", "Banque centrale européenne").
_ORG_TAILS = _words(
    "national nationale nationaux nationales international internationale européen européenne "
    "mondial mondiale fédéral fédérale central centrale général générale suprême "
    "constitutionnel constitutionnelle populaire socialiste communiste démocrate démocratique "
    "républicain républicaine libéral libérale conservateur conservatrice travailliste "
    "écologiste vert verts islamique islamiste uni unie unis unies arabe africain africaine "
    "atlantique militaire économique monétaire commercial commerciale public publique régional "
    "régionale municipal municipale supérieur supérieure extérieur extérieure étranger "
    "étrangère étrangères intérieur intérieure sécurité santé commerce défense justice finances "
    "économie affaires armées travail emploi éducation culture environnement transports "
    "agriculture énergie renseignement paix recherche développement coopération statistique "
    "statistiques comptes"
)
_PLACE_HEADS = _words(
    "street avenue square island islands valley river lake mount mountains sea ocean gulf bay "
    "coast peninsula province county district region strait canal desert airport rue "
    "boulevard île îles mer océan golfe baie côte péninsule détroit aéroport vallée fleuve lac "
    "mont région"
)
# Capitalised words that make a sequence an event, a law or a thing, never a person.
_NOT_PERSON = _words(
    "war guerre prize prix cup coupe games jeux olympics olympiques day act loi treaty traité "
    "accord agreement deal plan summit sommet conference conférence festival award revolution "
    "révolution crisis crise election elections élection élections empire republic république "
    "kingdom royaume internet covid brexit god dieu bible coran quran prize nobel"
)
# Words that open a place name, so that "in San Isidro" or "à Saint-Denis" is one place.
_PLACE_PREFIXES = _words(
    "san santa saint sainte st st. los las new port fort mount lake le la el al rio puerto"
)
# Upper-case words that are not organisations.
_NOT_ACRONYMS = frozenset(
    {"I", "A", "OK", "TV", "PIB", "GDP", "TVA", "VAT", "AM", "PM", "EDT", "EST", "GMT", "UTC",
     "CET", "CEST", "BST", "PDT", "PST", "DNA", "ADN", "COVID", "SIDA", "AIDS", "HIV", "VIH",
     "CEO", "PDG", "PhD", "KM", "USD", "EUR", "NB", "MP", "II", "III", "IV", "VI",
     "VII", "VIII", "IX", "XI", "XII", "XIV", "XV", "XVI", "XX", "XXI"}
)  # fmt: skip
_ROMAN = re.compile(r"^(?:I{1,3}|IV|VI{0,3}|IX|XI{0,3}|XIV|XV|XVI)$")
# French and English words for people of a country, folded masculine singular; the other
# forms are derived in `_demonyms`. They are neither places nor names.
_DEMONYM_BASES = (
    "russe américain français allemand britannique anglais chinois japonais ukrainien iranien "
    "syrien israélien palestinien turc saoudien indien européen italien espagnol canadien "
    "mexicain brésilien argentin coréen nord-coréen sud-coréen vénézuélien polonais belge "
    "suisse autrichien suédois finlandais norvégien danois grec égyptien irakien afghan "
    "pakistanais australien qatari libanais soviétique biélorusse géorgien arménien africain "
    "asiatique occidental oriental arabe kurde "
    "russian american french german british english chinese japanese ukrainian iranian "
    "syrian israeli palestinian turkish saudi indian european italian spanish canadian "
    "mexican brazilian argentine korean north-korean south-korean venezuelan polish belgian "
    "swiss austrian swedish finnish norwegian danish greek egyptian iraqi afghan pakistani "
    "australian qatari lebanese soviet belarusian georgian armenian african asian western "
    "eastern arab kurdish north south east west northern southern central"
)


@lru_cache(maxsize=1)
def _demonyms() -> frozenset[str]:
    forms: set[str] = set()
    for base in (_fold(w) for w in _DEMONYM_BASES.split()):
        forms.update({base, base + "s"})
        if base.endswith("ien"):
            forms.update({base + "ne", base + "nes"})
        elif base.endswith("s") or not base.endswith("e"):
            forms.update({base + "e", base + "es"})
    return frozenset(forms)


# Cues before a word that say it is a place ("à Sotchi", "in Osaka") ...
_PLACE_CUES = {"fr": _words("à au aux en vers"), "en": _words("in near outside inside")}
# ... unless the "à" follows a verb of speech, where it introduces a person ("a dit à Poutine").
_SPEECH_BEFORE_A = _words(
    "déclaré dit indiqué expliqué répondu demandé écrit annoncé assuré promis proposé rappelé "
    "reproché confié adressé parlé téléphoné succédé souhaité affirmé lancé"
)
_SPEECH_AFTER = re.compile(
    r"\s*,?\s*(?:said|says|told|added|stated|announced|warned|wrote|tweeted|insisted"
    r"|a\s+(?:\w+\s+){0,2}?(?:déclaré|indiqué|affirmé|expliqué|souligné|assuré|estimé|annoncé"
    r"|dit|ajouté|précisé|répondu|averti|écrit)"
    r"|déclare|affirme|estime|annonce|explique|souligne|assure|indique)\b",
    re.IGNORECASE,
)
_SPEECH_BEFORE = re.compile(
    r"(?:said|says|told|according\s+to|selon|d['’]après|a\s+(?:\w+\s+){0,2}?(?:déclaré|indiqué"
    r"|affirmé|expliqué|souligné|assuré|estimé|annoncé|dit|ajouté|précisé|répondu))\s*$",
    re.IGNORECASE,
)

# --- tokens -----------------------------------------------------------------------------------

# Dotted abbreviations (U.S., U.N.) first, then words with inner hyphens and apostrophes.
_TOKEN = re.compile(r"[^\W\d_](?:\.[^\W\d_])+\.?|[^\W_]+(?:[-‑'’][^\W_]+)*")
_ELISIONS = _words("l d j n s c m t qu jusqu lorsqu puisqu quoiqu presqu")
_EN_CONTRACTION = re.compile(r"['’](?:s|m|re|ve|ll|d|t)$")
# Text between two tokens that starts a new sentence or a quotation.
_NEW_SENTENCE = re.compile(r"[.!?:;\"«“‘(\n—–]")
_ADJACENT = re.compile(r"[ \t\u00a0\u202f]*")
_PARTICLE_NAME = re.compile(r"^(?:al|el|ad|as|bin|ben|abu|ibn)-[^\W\d_]")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    key: str  # folded, apostrophes straightened, final dot dropped
    initial: bool  # opens the sentence or a quotation

    @property
    def cap(self) -> bool:
        return self.text[0].isupper() or bool(_PARTICLE_NAME.match(self.text))

    @property
    def upper(self) -> bool:
        """All capitals, two characters or more: "ONU", "G20", "U.S." (not the initial "J.")."""
        letters = [c for c in self.text if c.isalpha()]
        size = sum(c.isalnum() for c in self.text)
        return size >= 2 and bool(letters) and all(c.isupper() for c in letters)


def _tokenise(text: str, lang: str) -> list[_Token]:
    pieces: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        word = match.group()
        # "l'ONU", "d'Etat", "qu'Osaka": the elided article is a word of its own. A capital
        # prefix is an elision in French only ("D'après"), a name elsewhere ("D'Souza").
        while True:
            head, sep, _rest = word.replace("’", "'").partition("'")
            if not sep or _fold(head) not in _ELISIONS or (head[0].isupper() and lang == "en"):
                break
            cut = len(head) + 1
            pieces.append((start, start + cut))
            start, word = start + cut, word[cut:]
        if lang == "en" or word.endswith(("'s", "’s")):
            contraction = _EN_CONTRACTION.search(word)
            if contraction and len(word) > contraction.end() - contraction.start():
                word = word[: contraction.start()]
                end = start + len(word)
        if word in _DOTTED and text[end : end + 1] == ".":
            end += 1  # "M. Poutine", "Donald J. Trump", "Goldman Sachs Inc."
        elif len(word) == 1 and word.isupper() and text[end : end + 1] == ".":
            end += 1
        pieces.append((start, end))
    tokens = []
    previous_end = 0
    for start, end in pieces:
        raw = text[start:end]
        key = _fold(raw).replace("’", "'")
        if key.endswith(".") and "." not in key[:-1]:
            key = key[:-1]  # "m." -> "m", but "u.s." stays
        gap = text[previous_end:start]
        initial = not tokens or bool(_NEW_SENTENCE.search(gap))
        tokens.append(_Token(raw, start, end, key, initial))
        previous_end = end
    return tokens


# --- gazetteer lookup -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]  # variant as written, tokenised
    keys: tuple[str, ...]  # the same, folded
    kind: str
    normal: str
    lang: str


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, list[_Entry]]:
    """Entries by their first folded word, longest first."""
    index: dict[str, list[_Entry]] = {}
    for table, kind in ((_PLACES, PLACE), (_ORGANISATIONS, ORGANISATION)):
        for variant, normal, lang in _parse_table(table):
            # Tokenised as French text is, so that "d'Amérique" is two words in both.
            tokens = _tokenise(variant, "fr")
            entry = _Entry(
                tuple(t.text for t in tokens), tuple(t.key for t in tokens), kind, normal, lang
            )
            index.setdefault(entry.keys[0], []).append(entry)
    for entries in index.values():
        entries.sort(key=lambda e: -len(e.keys))
    return index


def _same_case(written: str, found: _Token) -> bool:
    if len(written) > 1 and written.isupper() and any(c.isalpha() for c in written):
        return found.upper  # "US", "WHO", "UN": never the ordinary words "us", "who", "un"
    return not written[0].isupper() or found.cap


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    return _ADJACENT.fullmatch(text, left.end, right.start) is not None


# --- the finder -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One token, or several that a gazetteer entry names together ("Etats-Unis d'Amérique")."""

    first: int  # token indices, half-open
    last: int
    entry: _Entry | None = None


LAYOUT_CACHED_CHARS = 5_000  # a passage or a sentence; not an article


@lru_cache(maxsize=64)
def _layout(text: str, lang: str) -> tuple[tuple[_Token, ...], tuple[_Unit, ...], bool]:
    """A text's tokens, its units (tokens grouped where a gazetteer entry names them together)
    and whether it is shouted (in an all-capitals headline every word looks like an acronym)."""
    tokens = _tokenise(text, lang)
    units: list[_Unit] = []
    index = _gazetteer()
    i = 0
    while i < len(tokens):
        entry = next(
            (e for e in index.get(tokens[i].key, ()) if _matches(text, lang, tokens, e, i)), None
        )
        size = len(entry.keys) if entry else 1
        units.append(_Unit(i, i + size, entry))
        i += size
    letters = [c for c in text if c.isalpha()]
    shouting = bool(letters) and sum(c.isupper() for c in letters) > 0.6 * len(letters)
    return tuple(tokens), tuple(units), shouting


def _matches(text: str, lang: str, tokens: Sequence[_Token], entry: _Entry, i: int) -> bool:
    if entry.lang and entry.lang != lang:
        return False
    found = tokens[i : i + len(entry.keys)]
    if len(found) < len(entry.keys) or tuple(t.key for t in found) != entry.keys:
        return False
    if not all(_same_case(w, t) for w, t in zip(entry.words, found, strict=True)):
        return False
    return all(_adjacent(text, a, b) for a, b in pairwise(found))


class _Finder:
    """One pass over one text; `people` are full names (two words or more) known beforehand,
    and `more_people` more of them, looked at after `people` (the article's)."""

    def __init__(
        self,
        text: str,
        lang: str,
        people: tuple[str, ...] = (),
        more_people: tuple[str, ...] = (),
    ) -> None:
        self.text = text
        self.lang = lang
        self.people = people
        self.more_people = more_people
        # find_entities reads each text twice (once for its people, then with them): the
        # tokens and gazetteer units, which do not depend on the people, are read once. A
        # whole article's layout (tens of MB) is not kept.
        layout = _layout if len(text) <= LAYOUT_CACHED_CHARS else _layout.__wrapped__
        self.tokens, self.units, self.shouting = layout(text, lang)
        # Starts of organisations found by their head word, which a French tail may continue.
        self.open_ended: set[int] = set()

    # -- units and their properties --

    def _tok(self, unit: _Unit) -> _Token:
        return self.tokens[unit.first]

    def _key(self, unit: _Unit) -> str:
        return "" if unit.entry else self._tok(unit).key

    def _cap(self, unit: _Unit) -> bool:
        return unit.entry is not None or self._tok(unit).cap

    def _is(self, unit: _Unit, words: frozenset[str]) -> bool:
        return unit.entry is None and self._tok(unit).key in words

    def _honorific(self, unit: _Unit) -> bool:
        return unit.entry is None and self._tok(unit).text in _HONORIFICS

    def _calendar(self, unit: _Unit) -> bool:
        key = self._key(unit)
        return key in _CALENDAR or (
            bool(month_number(key)) and key not in _MONTH_ABBREVIATIONS and self._cap(unit)
        )

    def _acronym(self, unit: _Unit) -> bool:
        token = self._tok(unit)
        return (
            unit.entry is None
            and token.upper
            and token.text not in _NOT_ACRONYMS
            and not _ROMAN.match(token.text)
            and not self.shouting
        )

    def _name(self, unit: _Unit, first: bool = True) -> bool:
        """A word that can be part of a person's name; `first` for the name's first word."""
        if unit.entry is not None:
            return False
        token = self._tok(unit)
        if not first and (
            _ROMAN.match(token.text)
            or token.key in ("jr", "sr")
            or self._calendar(unit)
            or (token.cap and (token.key in _STOP or token.key in _CONNECTORS))
        ):
            # "Jean-Paul II", "Martin Luther King Jr.", "Theresa May", "Kim Jong Un"
            return True
        if not token.cap or self._honorific(unit) or self._calendar(unit):
            return False
        if len(token.text) == 1:
            return False  # a lone letter ("plan B"); an initial keeps its dot ("J.")
        if token.upper and not (len(token.text) == 2 and token.text.endswith(".")):
            return False  # an acronym, but "J." is an initial
        return not any(
            token.key in words
            for words in (_STOP, _TITLES, _ORG_HEADS, _PLACE_HEADS, _NOT_PERSON, _demonyms())
        )

    # -- entities --

    def _span(self, units: list[_Unit]) -> tuple[int, int]:
        return self.tokens[units[0].first].start, self.tokens[units[-1].last - 1].end

    def _entity(self, units: list[_Unit], kind: str, normal: str = "") -> Entity:
        start, end = self._span(units)
        text = self.text[start:end]
        return Entity(text, start, end, kind, normal or " ".join(text.split()))

    def _person(self, units: list[_Unit], names: list[_Unit]) -> Entity:
        start, end = self._span(names)
        return self._entity(units, PERSON, self._full_name(" ".join(self.text[start:end].split())))

    def _full_name(self, name: str) -> str:
        """'Poutine' -> 'Vladimir Poutine' when a known person's name ends with it."""
        words = [_fold(w) for w in name.split()]
        if len(words) != 1:
            return name
        for people in (self.people, self.more_people):
            full = _by_last_word(people).get(words[0])
            if full is not None:
                return full
        return name

    def _known(self, unit: _Unit) -> bool:
        return self._full_name(self._tok(unit).text) != self._tok(unit).text

    # -- the scan --

    def find(self) -> list[Entity]:
        found: list[Entity] = []
        k = 0
        while k < len(self.units):
            unit = self.units[k]
            if not self._cap(unit):
                k += 1
                continue
            end = self._run_end(k)
            entities = self._classify(self.units[k:end])
            run_end = self.tokens[self.units[end - 1].last - 1].end
            if entities and entities[-1].start in self.open_ended and entities[-1].end == run_end:
                last, end = self._extend(entities.pop(), end)
                entities.append(last)
            found.extend(entities)
            k = end
        return sorted(found, key=lambda e: e.start)

    def _run_end(self, k: int) -> int:
        """End of the run of capitalised units starting at k, joined by connectors ("Banque de
        France", "Charles de Gaulle", "Secretary of State Mike Pompeo")."""
        end = k + 1
        while end < len(self.units):
            if not self._next_to(end - 1, end):
                break
            if self._cap(self.units[end]):
                end += 1
                continue
            after = end
            while (
                after < len(self.units)
                and after - end < 2
                and self._is(self.units[after], _CONNECTORS)
                and not self._cap(self.units[after])
                and self._next_to(after - 1, after)
            ):
                after += 1
            if (
                after > end
                and after < len(self.units)
                and self._next_to(after - 1, after)
                and self._cap(self.units[after])
            ):
                end = after + 1
                continue
            break
        return end

    def _next_to(self, a: int, b: int) -> bool:
        left = self.tokens[self.units[a].last - 1]
        right = self.tokens[self.units[b].first]
        return _adjacent(self.text, left, right)

    def _extend(self, org: Entity, end: int) -> tuple[Entity, int]:
        """Carry a French organisation over its lower-case tail: "Parti communiste chinois",
        "Conseil de sécurité de l'ONU"."""
        demonyms = _demonyms()
        stop = end
        k = end
        while k < len(self.units) and self._next_to(k - 1, k):
            unit = self.units[k]
            if self._is(unit, _ORG_TAILS) or self._is(unit, demonyms):
                k += 1
                stop = k
                continue
            after = k
            while (
                after < len(self.units)
                and after - k < 2
                and self._is(self.units[after], _CONNECTORS)
                and self._next_to(after - 1, after)
            ):
                after += 1
            if (
                after > k
                and after < len(self.units)
                and self._next_to(after - 1, after)
                and (self._is(self.units[after], _ORG_TAILS) or self._cap(self.units[after]))
            ):
                k = after + 1
                stop = k
                continue
            break
        if stop == end:
            return org, end
        close = self.tokens[self.units[stop - 1].last - 1].end
        text = self.text[org.start : close]
        return Entity(text, org.start, close, ORGANISATION, " ".join(text.split())), stop

    def _classify(self, units: list[_Unit]) -> list[Entity]:
        """Entities in a run of capitalised units (or a part of one)."""
        units = self._strip(units)
        if not units:
            return []
        # "M. Poutine", "Mr Trump": an honorific and the name after it.
        for i, unit in enumerate(units):
            if self._honorific(unit) and i + 1 < len(units) and self._name(units[i + 1], False):
                # After an honorific even a month or an article is a name: "Mrs May", "Mme Le Pen".
                names = self._names(units[i + 1 :], first=False)
                return [
                    *self._classify(units[:i]),
                    self._person(units[: i + 1 + len(names)][i:], names),
                    *self._classify(units[i + 1 + len(names) :]),
                ]
        # "Russian President Vladimir Putin", "Secretary of State Mike Pompeo": the name after
        # the last title word, unless that is the end of an organisation ("Premier League").
        for i in reversed(range(len(units))):
            if self._is(units[i], _TITLES):
                tail = units[i + 1 :]
                if tail and self._name(tail[0]) and not any(self._is(u, _ORG_HEADS) for u in tail):
                    names = self._names(tail)
                    return [
                        *self._classify(units[:i]),
                        self._person(names, names),
                        *self._classify(tail[len(names) :]),
                    ]
                break
        if len(units) == 1 and units[0].entry:
            entry = units[0].entry
            return [self._entity(units, entry.kind, entry.normal)]
        if any(self._is(u, _ORG_HEADS) for u in units):
            # A head alone is an ordinary word opening a sentence ("Police said") or a common
            # abbreviation ("TV"), not a name.
            if len(units) == 1 and (self._tok(units[0]).initial or self._tok(units[0]).upper):
                return []
            # "President of the European Commission": the title and its "of the" go; but
            # "National Security Agency" keeps its first words, which only look like titles.
            i = 0
            while i < len(units) and self._is(units[i], _TITLES):
                i += 1
            if i and i < len(units) and self._is(units[i], _CONNECTORS):
                while i < len(units) and self._is(units[i], _CONNECTORS):
                    i += 1
                units = units[i:]
            org = self._entity(units, ORGANISATION)
            self.open_ended.add(org.start)
            return [org]
        # Adjectives and titles left in front are not part of any name.
        while units and (self._is(units[0], _demonyms()) or self._is(units[0], _TITLES)):
            units = self._strip(units[1:])
        if not units:
            return []
        gazetteer = [i for i, u in enumerate(units) if u.entry]
        if gazetteer:
            return self._around_gazetteer(units, gazetteer[0])
        if any(self._acronym(u) for u in units):
            return [self._entity(units, ORGANISATION)]
        if any(self._is(u, _PLACE_HEADS) for u in units):
            return [self._entity(units, PLACE)]
        if any(self._is(u, _NOT_PERSON) for u in units):
            return []
        if len(units) == 1:
            return self._single(units[0])
        if self._is(units[0], _PLACE_PREFIXES) and self._place_cue(units[0]):
            return [self._entity(units, PLACE)]
        names = self._names(units)
        if len(names) > 1:
            return [self._person(names, names), *self._classify(units[len(names) :])]
        # Not a name as a whole: try what is left after its first word.
        return [*self._classify(units[:1]), *self._classify(units[1:])]

    def _strip(self, units: list[_Unit]) -> list[_Unit]:
        """Drop connectors, sentence openers and calendar words from the edges of a run."""
        while units and (
            self._is(units[0], _CONNECTORS)
            or self._is(units[0], _STOP)
            or self._calendar(units[0])
            or not self._cap(units[0])
        ):
            units = units[1:]
        while units and (
            self._is(units[-1], _CONNECTORS)
            or not self._cap(units[-1])
            or (self._calendar(units[-1]) and (len(units) == 1 or self._is(units[-1], _CALENDAR)))
        ):
            units = units[:-1]
        return units

    def _names(self, units: list[_Unit], first: bool = True) -> list[_Unit]:
        """The longest prefix of `units` that reads as one person's name; `first` is False
        when the name's first word needs no check of its own (it follows an honorific)."""
        if not units or not self._name(units[0], first):
            return []
        end = 1
        while end < len(units):
            unit = units[end]
            if self._name(unit, first=False):
                end += 1
            elif self._is(unit, _CONNECTORS):
                # "Charles de Gaulle", "Ursula von der Leyen"
                after = end + 1
                if after < len(units) and self._is(units[after], _CONNECTORS):
                    after += 1
                if after < len(units) and self._name(units[after], first=False):
                    end = after + 1
                else:
                    break
            else:
                break
        return units[:end]

    def _around_gazetteer(self, units: list[_Unit], at: int) -> list[Entity]:
        """A run holding a known place or body and other words."""
        known = units[at]
        assert known.entry is not None
        place = known.entry.kind == PLACE and known.last - known.first == 1
        rest = [u for i, u in enumerate(units) if i != at]
        # "George Washington", "Jordan Bardella": a place's name used as a name's part.
        if place and len(self._names(units[:at])) == at > 0 and at == len(units) - 1:
            return [self._person(units, units)]
        if place and at == 0 and len(rest) == 1 and self._name(rest[0]):
            # ... unless the article knows that word as someone else's name ("Moscou Poutine").
            word = self._tok(rest[0]).text
            whole = " ".join(self.text[slice(*self._span(units))].split())
            if self._full_name(word) in (word, whole):
                return [self._person(units, units)]
        return [
            *self._classify(units[:at]),
            self._entity([known], known.entry.kind, known.entry.normal),
            *self._classify(units[at + 1 :]),
        ]

    def _single(self, unit: _Unit) -> list[Entity]:
        """One unknown capitalised word: a person or a place only when something says so."""
        token = self._tok(unit)
        if self._acronym(unit):
            return [self._entity([unit], ORGANISATION)]
        if not self._name(unit) or token.text.endswith("."):
            return []  # an initial alone is not a name
        if self._known(unit) or self._after_title(unit) or self._speaks(unit):
            return [self._person([unit], [unit])]
        if not token.initial and self._place_cue(unit):
            return [self._entity([unit], PLACE)]
        return []

    def _previous(self, unit: _Unit) -> _Token | None:
        if unit.first == 0:
            return None
        before = self.tokens[unit.first - 1]
        return before if _adjacent(self.text, before, self.tokens[unit.first]) else None

    def _after_title(self, unit: _Unit) -> bool:
        """Say whether a title comes just before: "le président (russe) Macron", "spokesman X"."""
        i = unit.first - 1
        demonyms = _demonyms()
        while i >= 0 and unit.first - i <= 4:
            token = self.tokens[i]
            if not _adjacent(self.text, token, self.tokens[i + 1]):
                return False
            if token.key in _TITLES:
                return True
            if token.cap or not (token.key in demonyms or token.key in _TITLE_FILLERS):
                return False
            i -= 1
        return False

    def _speaks(self, unit: _Unit) -> bool:
        token = self._tok(unit)
        return bool(
            _SPEECH_AFTER.match(self.text, token.end)
            or _SPEECH_BEFORE.search(self.text, 0, token.start)
        )

    def _place_cue(self, unit: _Unit) -> bool:
        before = self._previous(unit)
        cues = _PLACE_CUES.get(self.lang) or _PLACE_CUES["fr"] | _PLACE_CUES["en"]
        if before is None or before.key not in cues:
            return False
        if before.key == "a" and unit.first >= 2:
            return self.tokens[unit.first - 2].key not in _SPEECH_BEFORE_A
        return True


@lru_cache(maxsize=64)
def _by_last_word(people: tuple[str, ...]) -> dict[str, str]:
    """{folded last word: the first full name ending with it}: a long article names hundreds
    of people, and each one-word name was compared with every one of them."""
    index: dict[str, str] = {}
    for full in people:
        folded = [_fold(w) for w in full.split()]
        if len(folded) > 1:
            index.setdefault(folded[-1], full)
    return index


@lru_cache(maxsize=4096)
def _expand_name(name: str, article: str) -> str:
    # The same short names recur through a long article, and each expansion scans all of it.
    return expand_name(name, article)


@lru_cache(maxsize=32)
def _people(text: str, lang: str) -> tuple[str, ...]:
    """Full names (two words or more) of the people a text names, in order of appearance."""
    names: list[str] = []
    for entity in _Finder(text, lang).find():
        if entity.kind == PERSON and " " in entity.normal and entity.normal not in names:
            names.append(entity.normal)
    return tuple(names)


def find_entities(sentence: str, lang: str, article: str = "") -> list[Entity]:
    """People, organisations and places named in `sentence`, sorted by start, never overlapping.

    `lang` is "fr" or "en" (anything else uses both languages' cues and no language-specific
    gazetteer names). `article`, when given, is the text the sentence comes from: short names
    are completed with the full names it gives ("M. Ouchakov" -> "Youri Ouchakov").
    """
    lang = lang.strip().lower()[:2]
    more = _people(article, lang) if article else ()
    entities = _Finder(sentence, lang, _people(sentence, lang), more).find()
    if not article:
        return entities
    # A name the finder did not see as a person in the article may still be written in full
    # there ("... avec Sergueï Lavrov"): the claimant module's expansion catches those.
    resolved = []
    for entity in entities:
        if entity.kind == PERSON and " " not in entity.normal:
            full = _expand_name(entity.normal, article)
            first = _fold(full.split()[0])
            if full != entity.normal and not any(first in w for w in (_STOP, _TITLES, _CALENDAR)):
                entity = Entity(entity.text, entity.start, entity.end, PERSON, full)
        resolved.append(entity)
    return resolved
