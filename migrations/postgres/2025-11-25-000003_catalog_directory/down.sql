DROP TABLE templates;
DROP TABLE contacts;
DROP TABLE profile_attributes;
DROP TABLE document_profiles;
DROP TABLE document_attributes;
