import type { FakeAnalyticsProviders, Ga4FakeRow, LinkedInFakeRow, MetaFakeRow } from './fake-providers';

/**
 * Hand-checked provider data (in wire form) and the normalised totals it must produce.
 * Every expected figure below was computed by hand from the strings, not by the code under test.
 */
export const GA4_PROPERTY = '123456789';
export const META_ACCOUNT = 'act_1001';
export const LINKEDIN_ACCOUNT = '507404993';

export const ga4Rows = (): Ga4FakeRow[] => [
  // prettier-ignore
  { date: '20261008', campaign: 'spring_sale', source: 'google', medium: 'cpc', channel: 'Paid Search', sessions: '120', totalUsers: '100', keyEvents: '7', totalRevenue: '1234.56' },
  {
    date: '20261008',
    campaign: 'spring_sale',
    source: 'facebook',
    medium: 'paid_social',
    channel: 'Paid Social',
    sessions: '80',
    totalUsers: '75',
    keyEvents: '3',
    totalRevenue: '0.1',
  },
  {
    date: '20261009',
    campaign: 'spring_sale',
    source: 'google',
    medium: 'cpc',
    channel: 'Paid Search',
    sessions: '95',
    totalUsers: '90',
    keyEvents: '4',
    totalRevenue: '0.2',
  },
  {
    date: '20261009',
    campaign: '(not set)',
    source: '(direct)',
    medium: '(none)',
    channel: 'Direct',
    sessions: '300',
    totalUsers: '280',
    keyEvents: '0',
    totalRevenue: '0',
  },
  {
    date: '20261010',
    campaign: 'newsletter_oct',
    source: 'newsletter',
    medium: 'email',
    channel: 'Email',
    sessions: '45',
    totalUsers: '40',
    keyEvents: '2.5',
    totalRevenue: '99.999999',
  },
];

/** sessions 120+80+95+300+45; users 100+75+90+280+40; key events 7+3+4+0+2.5; revenue 1234.56+0.1+0.2+0+99.999999 EUR */
export const GA4_TOTALS = {
  rows: 5,
  sessions: 640,
  users: 585,
  conversions: '16.500000',
  conversionValueMicros: 1_334_859_999n,
  currency: 'EUR',
};

export const metaRows = (): MetaFakeRow[] => [
  {
    campaign_id: '23851',
    campaign_name: 'Spring Sale',
    date: '2026-10-08',
    impressions: '10000',
    clicks: '250',
    spend: '123.45',
    actions: [
      { action_type: 'lead', value: '5' },
      { action_type: 'link_click', value: '250' },
      { action_type: 'purchase', value: '2' },
      // The same purchases again under the pixel-specific type: must not be counted twice.
      { action_type: 'offsite_conversion.fb_pixel_purchase', value: '2' },
    ],
    action_values: [
      { action_type: 'purchase', value: '199.98' },
      { action_type: 'offsite_conversion.fb_pixel_purchase', value: '199.98' },
    ],
  },
  {
    campaign_id: '23852',
    campaign_name: 'Retargeting',
    date: '2026-10-08',
    impressions: '5000',
    clicks: '100',
    spend: '50.10',
    actions: [{ action_type: 'lead', value: '1' }],
  },
  {
    campaign_id: '23851',
    campaign_name: 'Spring Sale',
    date: '2026-10-09',
    impressions: '12000',
    clicks: '300',
    spend: '150.005',
    actions: [{ action_type: 'lead', value: '6' }],
    action_values: [],
  },
  { campaign_id: '23852', campaign_name: 'Retargeting', date: '2026-10-09', impressions: '4000', clicks: '80', spend: '0.01' },
  {
    campaign_id: '23851',
    campaign_name: 'Spring Sale',
    date: '2026-10-10',
    impressions: '8000',
    clicks: '200',
    spend: '99.99',
    actions: [{ action_type: 'purchase', value: '1' }],
    action_values: [{ action_type: 'purchase', value: '49.99' }],
  },
];

/** impressions 10000+5000+12000+4000+8000; clicks 250+100+300+80+200; spend 123.45+50.10+150.005+0.01+99.99;
 * conversions (lead+purchase) 7+1+6+0+1; value 199.98+49.99 USD */
export const META_TOTALS = {
  rows: 5,
  impressions: 39_000,
  clicks: 930,
  spendMicros: 423_555_000n,
  conversions: '15.000000',
  conversionValueMicros: 249_970_000n,
  currency: 'USD',
};

export const linkedinRows = (): LinkedInFakeRow[] => [
  {
    campaign_id: '9001',
    date: '2026-10-08',
    impressions: 2000,
    clicks: 40,
    costInLocalCurrency: '80.25',
    externalWebsiteConversions: 2,
    conversionValueInLocalCurrency: '300',
  },
  {
    campaign_id: '9002',
    date: '2026-10-09',
    impressions: 1500,
    clicks: 30,
    costInLocalCurrency: 45.5,
    externalWebsiteConversions: 1,
  },
  {
    campaign_id: '9001',
    date: '2026-10-10',
    impressions: 2500,
    clicks: 55,
    costInLocalCurrency: '101.10',
    externalWebsiteConversions: 3,
    conversionValueInLocalCurrency: 450.5,
  },
];

/** impressions 2000+1500+2500; clicks 40+30+55; cost 80.25+45.5+101.10; conversions 2+1+3; value 300+450.5 GBP */
export const LINKEDIN_TOTALS = {
  rows: 3,
  impressions: 6000,
  clicks: 125,
  spendMicros: 226_850_000n,
  conversions: '6.000000',
  conversionValueMicros: 750_500_000n,
  currency: 'GBP',
};

/** Loads every fixture into the fakes. */
export function loadFixtures(fakes: FakeAnalyticsProviders): void {
  fakes.ga4.rows.set(GA4_PROPERTY, ga4Rows());
  fakes.meta.rows.set(META_ACCOUNT, metaRows());
  fakes.linkedin.rows.set(LINKEDIN_ACCOUNT, linkedinRows());
  fakes.linkedin.names.set('9001', 'Q4 ABM');
}
